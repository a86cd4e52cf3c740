using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Reliability.Tests.Faults;

/// <summary>One request of a load: where, what, and whether it streams.</summary>
internal sealed record Planned(string Path, string Body, bool Stream, string? SessionId = null, string? Text = null);

/// <summary>How a load went. The promises: no request hung, none answered 500 by our own code, none cut off without an ending.</summary>
internal sealed class LoadResult
{
    public int Sent;
    public int Succeeded;
    public int ProperErrors;
    public int Hung;
    public int OwnServerErrors;
    public int CutOff;
    public readonly ConcurrentBag<string> Problems = [];
    public readonly ConcurrentDictionary<string, int> Statuses = new();
    public readonly ConcurrentDictionary<string, int> SucceededSessionTurns = new();

    /// <summary>Each acknowledged session turn: its session and the text it sent.</summary>
    public readonly ConcurrentBag<(string Session, string Text)> AcknowledgedTurns = [];

    public override string ToString() =>
        $"sent {Sent}, succeeded {Succeeded}, failed with a proper error {ProperErrors}, hung {Hung}, 5xx from our code {OwnServerErrors}, "
        + $"cut off {CutOff}; statuses {string.Join(" ", Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}"
        + (Problems.IsEmpty ? "" : "; e.g. " + string.Join(" | ", Problems.Take(3)));

    /// <summary>Writes the figures for docs/reliability.md (artifacts/reliability/*.json).</summary>
    public void Save(string scenario)
    {
        var directory = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "reliability");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, scenario + ".json"), JsonSerializer.Serialize(new
        {
            scenario,
            sent = Sent,
            succeeded = Succeeded,
            failed_with_proper_error = ProperErrors,
            hung = Hung,
            own_5xx = OwnServerErrors,
            cut_off = CutOff,
            statuses = Statuses,
        }));
    }
}

/// <summary>
/// Drives concurrent mixed traffic through the Gateway and classifies every answer: a success (a whole body, or a
/// stream with its proper ending), a proper error (a 4xx/5xx in the dialect's envelope, or a stream that ends with the
/// dialect's error event), a 500 from our own code, a hang (no answer within the client's timeout) or a cut-off stream.
/// </summary>
internal static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(GatewayCluster cluster, int workers, TimeSpan duration, Func<int, int, Planned> plan,
        TimeSpan? requestTimeout = null, TimeSpan? pace = null, CancellationToken stop = default)
    {
        var result = new LoadResult();
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1000, PooledConnectionLifetime = TimeSpan.FromSeconds(5) };
        using var http = new HttpClient(handler) { BaseAddress = cluster.GatewayUri, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new("Bearer", GatewayCluster.UserKey);
        var timeout = requestTimeout ?? TimeSpan.FromSeconds(30);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; clock.Elapsed < duration && !stop.IsCancellationRequested; i++)
            {
                await SendAsync(http, plan(worker, i), timeout, result);
                if (pace is { } wait)
                {
                    await Task.Delay(wait, CancellationToken.None); // a steady client, not a tight loop
                }
            }
        })));
        return result;
    }

    public static async Task SendAsync(HttpClient http, Planned planned, TimeSpan timeout, LoadResult result)
    {
        Interlocked.Increment(ref result.Sent);
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, planned.Path) { Content = new StringContent(planned.Body, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            var body = await response.Content.ReadAsStringAsync(cancel.Token);
            var status = (int)response.StatusCode;
            result.Statuses.AddOrUpdate(status.ToString(System.Globalization.CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
            Classify(planned, status, body, result);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Interlocked.Increment(ref result.Hung);
            result.Problems.Add($"hung: {planned.Path} {Short(planned.Body)}");
        }
        catch (HttpRequestException e)
        {
            Interlocked.Increment(ref result.CutOff);
            result.Problems.Add($"cut off: {planned.Path} {e.GetBaseException().Message}");
        }
        catch (IOException e)
        {
            Interlocked.Increment(ref result.CutOff);
            result.Problems.Add($"cut off: {planned.Path} {e.GetBaseException().Message}");
        }
    }

    private static void Classify(Planned planned, int status, string body, LoadResult result)
    {
        var anthropic = planned.Path.StartsWith("/v1/messages", StringComparison.Ordinal);
        if (status >= 400)
        {
            var envelope = anthropic ? body.Contains("\"type\":\"error\"", StringComparison.Ordinal) : body.Contains("\"error\":{", StringComparison.Ordinal);
            if (status == 500 || !envelope)
            {
                Interlocked.Increment(ref result.OwnServerErrors);
                result.Problems.Add($"{status} from our code: {planned.Path} {Short(body)}");
            }
            else
            {
                Interlocked.Increment(ref result.ProperErrors);
            }

            return;
        }

        if (!planned.Stream)
        {
            // A success is a whole answer of the dialect, not just a 200.
            var whole = planned.Path switch
            {
                "/v1/messages" => body.Contains("\"type\":\"message\"", StringComparison.Ordinal) && body.Contains("\"stop_reason\"", StringComparison.Ordinal),
                "/v1/responses" => body.Contains("\"object\":\"response\"", StringComparison.Ordinal) && body.Contains("\"output\":[", StringComparison.Ordinal),
                _ => body.Contains("\"object\":\"chat.completion\"", StringComparison.Ordinal) && body.Contains("\"finish_reason\"", StringComparison.Ordinal),
            };
            if (!whole)
            {
                Interlocked.Increment(ref result.CutOff);
                result.Problems.Add($"200 without a whole answer: {planned.Path} {Short(body)}");
                return;
            }

            Interlocked.Increment(ref result.Succeeded);
            Turn(planned, result);
            return;
        }

        var (ended, failed) = planned.Path switch
        {
            "/v1/messages" => (body.Contains("event: message_stop", StringComparison.Ordinal) || body.Contains("event: error", StringComparison.Ordinal),
                body.Contains("event: error", StringComparison.Ordinal)),
            "/v1/responses" => (body.Contains("event: response.completed", StringComparison.Ordinal) || body.Contains("event: response.incomplete", StringComparison.Ordinal)
                || body.Contains("event: response.failed", StringComparison.Ordinal), body.Contains("event: response.failed", StringComparison.Ordinal)),
            _ => (body.TrimEnd().EndsWith("data: [DONE]", StringComparison.Ordinal), body.Contains("\"error\":{", StringComparison.Ordinal)),
        };
        if (!ended)
        {
            Interlocked.Increment(ref result.CutOff);
            result.Problems.Add($"stream without an ending: {planned.Path} …{Short(body[Math.Max(0, body.Length - 200)..])}");
        }
        else if (failed)
        {
            Interlocked.Increment(ref result.ProperErrors);
        }
        else
        {
            Interlocked.Increment(ref result.Succeeded);
            Turn(planned, result);
        }
    }

    private static void Turn(Planned planned, LoadResult result)
    {
        if (planned.SessionId is { } session)
        {
            result.SucceededSessionTurns.AddOrUpdate(session, 1, (_, n) => n + 1);
            if (planned.Text is { } text)
            {
                result.AcknowledgedTurns.Add((session, text));
            }
        }
    }

    private static string Short(string text) => text.Length > 160 ? text[..160] + "…" : text;

    /// <summary>A mixed plan over the three dialects, half streamed, with an optional fake-upstream directive.</summary>
    public static Planned Mixed(int worker, int i, string? directive = null, string? session = null)
    {
        var text = (directive is null ? "" : $"[[fake:{directive}]] ") + $"load {worker}-{i}";
        var stream = (worker + i) % 2 == 0;
        var content = JsonSerializer.Serialize(text);
        return ((worker + i) % 3) switch
        {
            0 when session is null => new("/v1/messages", $$"""{"model":"claude-sonnet-4","max_tokens":256,"stream":{{Json(stream)}},"messages":[{"role":"user","content":{{content}}}]}""", stream),
            1 when session is null => new("/v1/responses", $$"""{"model":"gpt-4.1-mini","store":false,"stream":{{Json(stream)}},"input":{{content}}}""", stream),
            _ => new("/v1/chat/completions",
                $$"""{"model":"flowith","stream":{{Json(stream)}}{{(session is null ? "" : $",\"session_id\":\"{session}\"")}},"messages":[{"role":"user","content":{{content}}}]}""",
                stream, session, text),
        };
    }

    private static string Json(bool value) => value ? "true" : "false";
}
