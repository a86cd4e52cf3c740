using System.Diagnostics;
using System.Text.Json;
using Flowith2Api.Reliability.Tests.Faults;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Reliability.Tests.Soak;

/// <summary>
/// Steady mixed traffic for <c>SOAK_MINUTES</c> (2 in CI; <c>SOAK_MINUTES=60</c> for the hour-long run by hand or
/// nightly), sampling the process (every service runs in it) at regular intervals: managed heap, working set, threads,
/// open sockets, and the interval's latency. Fails when any of them keeps growing: a leak, not a warm-up.
/// </summary>
public sealed class SoakTests
{
    private sealed record Sample(double Minute, long HeapBytes, long WorkingSetBytes, int Threads, int Sockets, double P50Ms, double P99Ms, int Requests);

    private static int Sockets()
    {
        try
        {
            return Directory.EnumerateFiles("/proc/self/fd").Count(fd =>
            {
                try
                {
                    return new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true;
                }
                catch (IOException)
                {
                    return false;
                }
            });
        }
        catch (DirectoryNotFoundException)
        {
            return -1;
        }
    }

    [Fact]
    public async Task A_steady_mixed_load_grows_no_memory_threads_sockets_or_latency()
    {
        var minutes = double.TryParse(Environment.GetEnvironmentVariable("SOAK_MINUTES"), System.Globalization.CultureInfo.InvariantCulture, out var m) && m > 0 ? m : 2;
        var interval = minutes > 10 ? TimeSpan.FromMinutes(1) : TimeSpan.FromSeconds(10);
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = "flo_soak_a_0001,flo_soak_b_0002",
            Redis = redis.ConnectionString,
            ChatReplicas = 2,
        });
        using var http = cluster.CreateClient();
        var samples = new List<Sample>();
        var total = new LoadResult();
        var clock = Stopwatch.StartNew();
        var end = TimeSpan.FromMinutes(minutes);
        var sessionTurn = 0;
        while (clock.Elapsed < end)
        {
            // One interval of steady traffic (~60 requests/s: 6 workers, 100 ms apart), some on rotating sessions.
            var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
            var part = new LoadResult();
            var deadline = clock.Elapsed + interval;
            await Task.WhenAll(Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; clock.Elapsed < deadline; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    var session = worker == 0 ? $"soak-{Interlocked.Increment(ref sessionTurn) % 50}" : null;
                    await LoadRunner.SendAsync(http, LoadRunner.Mixed(worker, i, session: session), TimeSpan.FromSeconds(30), part);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    await Task.Delay(100);
                }
            })));
            total.Sent += part.Sent;
            total.Succeeded += part.Succeeded;
            total.ProperErrors += part.ProperErrors;
            total.Hung += part.Hung;
            total.OwnServerErrors += part.OwnServerErrors;
            total.CutOff += part.CutOff;
            var sorted = latencies.Order().ToList();
            using var process = Process.GetCurrentProcess();
            samples.Add(new Sample(Math.Round(clock.Elapsed.TotalMinutes, 2), GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64,
                process.Threads.Count, Sockets(), sorted[sorted.Count / 2], sorted[(int)(sorted.Count * 0.99)], sorted.Count));
        }

        var directory = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "reliability");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, $"soak-{minutes}min.json"), JsonSerializer.Serialize(new { minutes, total = total.ToString(), samples }));

        Assert.True(total.Hung == 0 && total.OwnServerErrors == 0 && total.CutOff == 0, total.ToString());
        Assert.Equal(total.Sent, total.Succeeded);

        // Growth: the last third of the run against the second (the first third is warm-up).
        var third = Math.Max(1, samples.Count / 3);
        var middle = samples.Skip(third).Take(third).ToList();
        var last = samples.Skip(samples.Count - third).ToList();
        var report = string.Join("\n", samples.Select(s => $"{s.Minute} min: heap {s.HeapBytes / 1048576} MiB, ws {s.WorkingSetBytes / 1048576} MiB, "
            + $"threads {s.Threads}, sockets {s.Sockets}, p50 {s.P50Ms:F1} ms, p99 {s.P99Ms:F1} ms, {s.Requests} requests"));
        Assert.True(last.Average(s => s.HeapBytes) < middle.Average(s => s.HeapBytes) * 1.25 + 16 * 1048576, "heap grows:\n" + report);
        Assert.True(last.Average(s => s.Threads) < middle.Average(s => s.Threads) + 20, "threads grow:\n" + report);
        Assert.True(last.Average(s => s.Sockets) < middle.Average(s => s.Sockets) + 50, "sockets grow:\n" + report);
        Assert.True(last.Average(s => s.P99Ms) < middle.Average(s => s.P99Ms) * 3 + 20, "latency grows:\n" + report);
    }
}
