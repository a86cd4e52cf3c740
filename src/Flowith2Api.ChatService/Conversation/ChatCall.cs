using System.Diagnostics;
using Flowith2Api.Contracts;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>
/// One client call: its request id and a clock of how long it waited on the upstream, so that our own overhead
/// (total minus upstream wait) can be reported per request in <c>x-gateway-overhead-ms</c>.
/// </summary>
public sealed class ChatCall(string requestId)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _upstreamTicks;

    public string RequestId { get; } = requestId;

    /// <summary>The public model name, for statistics.</summary>
    public string? Model { get; set; }

    /// <summary>The upstream model the public one resolved to.</summary>
    public string? UpstreamModel { get; set; }

    /// <summary>Whether the client asked for a stream.</summary>
    public bool Stream { get; set; }

    /// <summary>Upstream attempts made (1 when the first succeeded).</summary>
    public int Attempts { get; set; }

    /// <summary>The masked credential of the last attempt.</summary>
    public string? CredentialMasked { get; set; }

    public int InputTokens { get; set; }

    public int OutputTokens { get; set; }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    public TimeSpan UpstreamWait => TimeSpan.FromSeconds((double)Interlocked.Read(ref _upstreamTicks) / Stopwatch.Frequency);

    public TimeSpan Overhead => Elapsed - UpstreamWait;

    public async Task<T> TimeUpstream<T>(Task<T> task)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await task;
        }
        finally
        {
            Interlocked.Add(ref _upstreamTicks, Stopwatch.GetTimestamp() - start);
        }
    }

    public async ValueTask<bool> TimeUpstream(ValueTask<bool> task)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await task;
        }
        finally
        {
            Interlocked.Add(ref _upstreamTicks, Stopwatch.GetTimestamp() - start);
        }
    }

    /// <summary>Tells the Gateway our elapsed time and overhead; it adds its own and answers <c>x-gateway-overhead-ms</c>.</summary>
    public void WriteTimingHeaders(HttpResponse response)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        response.Headers[InternalHeaders.ServiceElapsedMs] = Elapsed.TotalMilliseconds.ToString("F3", culture);
        response.Headers[InternalHeaders.ServiceOverheadMs] = Math.Max(0, Overhead.TotalMilliseconds).ToString("F3", culture);
    }
}
