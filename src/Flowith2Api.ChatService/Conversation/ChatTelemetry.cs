using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>
/// The ChatService's spans and instruments on the <c>flowith2api</c> meter, named after the OpenTelemetry GenAI
/// semantic conventions where they apply (<c>gen_ai.*</c>).
/// </summary>
public static class ChatTelemetry
{
    public const string ProviderName = "flowith";

    private static readonly double[] SecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
    private static readonly double[] OverheadBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    private static readonly Counter<long> Requests = Telemetry.Meter.CreateCounter<long>("flowith2api.requests", "{request}",
        "Chat requests answered, by dialect, model, HTTP status and whether they streamed.");

    private static readonly Histogram<double> Duration = Telemetry.Meter.CreateHistogram("flowith2api.request.duration", "s",
        "Time to the end of a chat answer.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    private static readonly Histogram<double> TimeToFirstToken = Telemetry.Meter.CreateHistogram("flowith2api.time_to_first_token", "s",
        "Time to the first byte of a chat answer (for streams, the first event the client sees).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    private static readonly Histogram<double> Overhead = Telemetry.Meter.CreateHistogram("flowith2api.overhead", "s",
        "The ChatService's own time per chat request: elapsed minus the upstream waits.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = OverheadBuckets });

    private static readonly Histogram<long> TokenUsage = Telemetry.Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}",
        "Tokens per chat request, by gen_ai.token.type (input or output).",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576] });

    private static readonly Counter<long> Attempts = Telemetry.Meter.CreateCounter<long>("flowith2api.upstream.attempts", "{attempt}",
        "Upstream calls, by outcome (success or the failure class).");

    private static readonly Counter<long> Retries = Telemetry.Meter.CreateCounter<long>("flowith2api.upstream.retries", "{retry}",
        "Upstream calls that were a retry with another credential.");

    /// <summary>The span of one chat request; named <c>chat {model}</c> once the model is known (<see cref="Finish"/>).</summary>
    public static Activity? StartChat(string dialect)
    {
        var activity = Telemetry.ActivitySource.StartActivity("chat");
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("gen_ai.operation.name", "chat");
            activity.SetTag("gen_ai.provider.name", ProviderName);
            activity.SetTag("gen_ai.system", ProviderName);
            activity.SetTag("flowith2api.dialect", dialect);
        }

        return activity;
    }

    /// <summary>The span around turning a dialect's request into the conversation model.</summary>
    public static Activity? StartTranslation(string dialect) =>
        Telemetry.ActivitySource.StartActivity("translate " + dialect + " request");

    /// <summary>Records the request's instruments.</summary>
    public static void Record(string dialect, int status, double elapsedMs, double? firstByteMs, ChatCall? call)
    {
        // The resolved catalogue model, not the client's string: wildcard aliases must not mint new series.
        var model = call?.UpstreamModel ?? "unknown";
        var tags = new TagList
        {
            { "flowith2api.dialect", dialect },
            { "gen_ai.request.model", model },
            { "http.response.status_code", status },
            { "flowith2api.stream", call?.Stream ?? false },
        };
        Requests.Add(1, tags);
        Duration.Record(elapsedMs / 1000, tags);
        if (firstByteMs is { } first && status < 400)
        {
            TimeToFirstToken.Record(first / 1000, tags);
        }

        if (call is null)
        {
            return;
        }

        Overhead.Record(Math.Max(0, call.Overhead.TotalSeconds), tags);
        if (status < 400)
        {
            TokenUsage.Record(call.InputTokens, new TagList
            {
                { "gen_ai.operation.name", "chat" }, { "gen_ai.provider.name", ProviderName }, { "gen_ai.request.model", model }, { "gen_ai.token.type", "input" },
            });
            TokenUsage.Record(call.OutputTokens, new TagList
            {
                { "gen_ai.operation.name", "chat" }, { "gen_ai.provider.name", ProviderName }, { "gen_ai.request.model", model }, { "gen_ai.token.type", "output" },
            });
        }
    }

    /// <summary>Completes the chat span: named after the model, with the outcome and usage.</summary>
    public static void Finish(Activity? activity, int status, ChatCall? call, string? keyId)
    {
        if (activity is null)
        {
            return;
        }

        try
        {
            if (call?.Model is { } publicModel)
            {
                activity.DisplayName = "chat " + publicModel;
                activity.SetTag("gen_ai.request.model", publicModel);
            }

            if (call is not null)
            {
                activity.SetTag("gen_ai.response.model", call.UpstreamModel ?? call.Model);
                activity.SetTag("gen_ai.usage.input_tokens", call.InputTokens);
                activity.SetTag("gen_ai.usage.output_tokens", call.OutputTokens);
                activity.SetTag("flowith2api.stream", call.Stream);
                activity.SetTag("flowith2api.attempts", call.Attempts);
                activity.SetTag(Telemetry.RequestIdTag, call.RequestId);
            }

            activity.SetTag("http.response.status_code", status);
            activity.SetTag("flowith2api.key_id", keyId);
            if (status >= 400)
            {
                activity.SetTag("error.type", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (status >= 500)
                {
                    activity.SetStatus(ActivityStatusCode.Error);
                }
            }
        }
        finally
        {
            activity.Dispose();
        }
    }

    /// <summary>
    /// Counts one upstream attempt (by outcome and credential id — the hash-derived id the admin list shows next to
    /// the masked value; masks can collide) and, when it was not the first, one retry.
    /// </summary>
    public static void RecordAttempt(int number, string outcome, string credentialId)
    {
        Attempts.Add(1, new KeyValuePair<string, object?>("flowith2api.outcome", outcome),
            new KeyValuePair<string, object?>("flowith2api.credential_id", credentialId));
        if (number > 1)
        {
            Retries.Add(1);
        }
    }
}

/// <summary>
/// The observed instruments: open streams now, and how many credentials are active, cooling down or disabled
/// (sampled every few seconds, as reading the pool's shared state is a Redis round trip).
/// </summary>
public sealed class ChatGauges : Microsoft.Extensions.Hosting.BackgroundService
{
    private readonly Credentials.ICredentialPool _pool;
    private readonly TimeProvider _time;
    private volatile Measurement<int>[] _credentials = [];

    public ChatGauges(ChatStats stats, Credentials.ICredentialPool pool, TimeProvider time)
    {
        _pool = pool;
        _time = time;
        Telemetry.Meter.CreateObservableUpDownCounter("flowith2api.active_streams", () => stats.ActiveStreams, "{stream}",
            "Streaming chat answers open right now.");
        Telemetry.Meter.CreateObservableGauge("flowith2api.credentials", () => _credentials, "{credential}",
            "Upstream credentials by flowith2api.credential.state (active, cooling, disabled).");
    }

    /// <summary>Reads the pool's states once.</summary>
    public async Task SampleAsync()
    {
        var statuses = await _pool.StatusesAsync();
        _credentials =
        [
            .. Enum.GetValues<Credentials.CredentialState>().Select(state => new Measurement<int>(statuses.Count(s => s.State == state),
                new KeyValuePair<string, object?>("flowith2api.credential.state", state.ToString().ToLowerInvariant()))),
        ];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5), _time);
        do
        {
            try
            {
                await SampleAsync();
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException or InvalidOperationException)
            {
                // Redis away: keep the last sample; the pool itself falls back and says so in its own logs.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
