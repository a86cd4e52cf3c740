using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Flowith2Api.Bench;

/// <summary>What holding <see cref="Streams"/> streams open at once cost.</summary>
internal sealed record OpenStreamsResult(int Streams, long Opened, long Completed, double SuccessPercent, Summary FirstToken,
    long GatewayBaselineMiB, long ChatServiceBaselineMiB, long GatewayHeldMiB, long ChatServiceHeldMiB, double KiBPerStream);

/// <summary>
/// Opens streaming chats through the Gateway at a steady ramp against a slow upstream, samples the Gateway's and
/// ChatService's resident memory once every stream has its first token (all are open at that moment), then lets them finish.
/// </summary>
internal static class OpenStreams
{
    public static async Task<OpenStreamsResult> HoldAsync(HttpClient http, Uri gateway, string apiKey, int streams, int rampPerSecond,
        ServiceProcess gatewayProcess, ServiceProcess chatProcess, CancellationToken ct)
    {
        var gatewayBaseline = gatewayProcess.ResidentBytes();
        var chatBaseline = chatProcess.ResidentBytes();
        var firstToken = new Distribution();
        long opened = 0, settled = 0, completed = 0;
        var allOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Settle()
        {
            if (Interlocked.Increment(ref settled) == streams)
                allOpen.TrySetResult();
        }

        var interval = (double)Stopwatch.Frequency / rampPerSecond;
        var start = Stopwatch.GetTimestamp();
        var tasks = new List<Task>(streams);
        for (var i = 0; i < streams; i++)
        {
            var due = start + (long)(i * interval);
            while (Stopwatch.GetTimestamp() < due)
                await Task.Delay(1, ct);
            tasks.Add(Task.Run(async () =>
            {
                var isSettled = false;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "v1/chat/completions"));
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
                    request.Content = new StringContent("""{"model":"gpt-4.1-mini","stream":true,"messages":[{"role":"user","content":"Tell me a story."}]}""",
                        Encoding.UTF8, "application/json");
                    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
                    if (!response.IsSuccessStatusCode)
                        return;
                    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
                    var done = false;
                    while (await reader.ReadLineAsync(ct) is { } line)
                    {
                        if (!isSettled && line.Contains("\"content\":\"", StringComparison.Ordinal) && !line.Contains("\"content\":\"\"", StringComparison.Ordinal))
                        {
                            firstToken.Record((Stopwatch.GetTimestamp() - due) * 1_000_000 / Stopwatch.Frequency);
                            Interlocked.Increment(ref opened);
                            isSettled = true;
                            Settle();
                        }

                        done |= line == "data: [DONE]";
                    }

                    if (done && isSettled)
                        Interlocked.Increment(ref completed);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                {
                }
                finally
                {
                    if (!isSettled)
                        Settle();
                }
            }, ct));
        }

        await allOpen.Task.WaitAsync(TimeSpan.FromMinutes(5), ct);
        // Every stream is open (or failed): take the highest of a few samples as the held footprint.
        long gatewayHeld = 0, chatHeld = 0;
        for (var i = 0; i < 5; i++)
        {
            gatewayHeld = Math.Max(gatewayHeld, gatewayProcess.ResidentBytes());
            chatHeld = Math.Max(chatHeld, chatProcess.ResidentBytes());
            await Task.Delay(100, ct);
        }

        await Task.WhenAll(tasks);
        var perStream = Math.Max(0, gatewayHeld - gatewayBaseline + chatHeld - chatBaseline) / 1024.0 / Math.Max(1, opened);
        return new OpenStreamsResult(streams, opened, completed, Math.Round(100.0 * completed / streams, 2), firstToken.Summarise(),
            gatewayBaseline >> 20, chatBaseline >> 20, gatewayHeld >> 20, chatHeld >> 20, Math.Round(perStream, 1));
    }
}
