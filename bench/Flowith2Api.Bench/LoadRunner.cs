using System.Diagnostics;
using HdrHistogram;

namespace Flowith2Api.Bench;

/// <summary>What one request reported: success, when its first token arrived and the gateway's own overhead header.</summary>
internal readonly record struct Outcome(bool Ok, long FirstTokenTimestamp, double? OverheadMs);

/// <summary>Latency distribution of one run, in microseconds.</summary>
internal sealed class Distribution
{
    private readonly LongHistogram _histogram = new(1, 120_000_000, 3);
    private readonly Lock _lock = new();

    public void Record(long micros)
    {
        lock (_lock)
        {
            _histogram.RecordValue(Math.Clamp(micros, 1, 120_000_000));
        }
    }

    public Summary Summarise()
    {
        lock (_lock)
        {
            if (_histogram.TotalCount == 0)
                return new Summary(0, 0, 0, 0, 0);
            return new Summary(_histogram.TotalCount, Ms(_histogram.GetValueAtPercentile(50)), Ms(_histogram.GetValueAtPercentile(90)),
                Ms(_histogram.GetValueAtPercentile(99)), Ms(_histogram.GetMaxValue()));
        }
    }

    private static double Ms(long micros) => Math.Round(micros / 1000.0, 3);
}

/// <summary>Percentiles in milliseconds.</summary>
internal sealed record Summary(long Count, double P50, double P90, double P99, double Max);

/// <summary>
/// Open-model load: request <c>i</c> is due at <c>start + i / rate</c> whatever the earlier ones did, and its latency
/// counts from when it was due (not when it was sent), so queueing in the product shows instead of hiding.
/// </summary>
internal static class LoadRunner
{
    public static async Task<(Distribution Total, Distribution FirstToken, Distribution Overhead, long Sent, long Ok)> RunAsync(
        int rate, TimeSpan duration, Func<CancellationToken, Task<Outcome>> send, CancellationToken cancellationToken)
    {
        var total = new Distribution();
        var firstToken = new Distribution();
        var overhead = new Distribution();
        long ok = 0;
        var count = (long)(rate * duration.TotalSeconds);
        var interval = (double)Stopwatch.Frequency / rate;
        var inFlight = new List<Task>((int)Math.Min(count, 1_000_000));
        // The schedule runs on its own thread and sleeps (nanosleep, ~60 µs precision) until each request is due: a
        // spinning scheduler would take a core from the processes under test on a small machine.
        var scheduler = new Thread(() =>
        {
            var start = Stopwatch.GetTimestamp();
            for (long i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
            {
                var due = start + (long)(i * interval);
                Clock.SleepUntil(due);
                inFlight.Add(Task.Run(async () =>
                {
                    Outcome outcome;
                    try
                    {
                        outcome = await send(cancellationToken);
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                    {
                        outcome = new Outcome(false, 0, null);
                    }

                    var end = Stopwatch.GetTimestamp();
                    total.Record(Micros(end - due));
                    if (!outcome.Ok)
                        return;
                    Interlocked.Increment(ref ok);
                    if (outcome.FirstTokenTimestamp != 0)
                        firstToken.Record(Micros(outcome.FirstTokenTimestamp - due));
                    if (outcome.OverheadMs is { } ms)
                        overhead.Record((long)(ms * 1000));
                }, cancellationToken));
            }
        })
        { IsBackground = true, Name = "load schedule", Priority = ThreadPriority.AboveNormal };
        scheduler.Start();
        await Task.Run(scheduler.Join, cancellationToken);
        await Task.WhenAll(inFlight);
        return (total, firstToken, overhead, count, ok);
    }

    private static long Micros(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;
}

/// <summary>Sleeping until a <see cref="Stopwatch"/> timestamp without burning a core.</summary>
internal static partial class Clock
{
    public static void SleepUntil(long timestamp)
    {
        while (true)
        {
            var wait = timestamp - Stopwatch.GetTimestamp();
            if (wait <= 0)
                return;
            var nanos = wait * 1_000_000_000 / Stopwatch.Frequency;
            if (OperatingSystem.IsLinux())
            {
                var request = new TimeSpec { Seconds = nanos / 1_000_000_000, Nanoseconds = nanos % 1_000_000_000 };
                NanoSleep(ref request, IntPtr.Zero);
            }
            else
            {
                Thread.Sleep(TimeSpan.FromTicks(Math.Max(1, nanos / 100)));
            }
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "nanosleep")]
    private static partial int NanoSleep(ref TimeSpec request, IntPtr remaining);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
