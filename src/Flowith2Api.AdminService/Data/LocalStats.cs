using Flowith2Api.Contracts;

namespace Flowith2Api.AdminService.Data;

/// <summary>
/// The cluster's statistics when no Redis is configured (embedded mode): the ChatService reports what it counted once a
/// second (<see cref="StatsReport"/>) and they are summed here, in process, as Redis would sum them. A replica that
/// stopped reporting no longer counts for open streams and cooling credentials after 15 seconds.
/// </summary>
public sealed class LocalStats(TimeProvider time)
{
    private static readonly TimeSpan ReplicaLifetime = TimeSpan.FromSeconds(15);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _counters = [];
    private readonly Dictionary<int, long> _latency = [];
    private readonly Dictionary<int, long> _ttft = [];
    private readonly Dictionary<string, (long Streams, int Cooling, DateTimeOffset Seen)> _replicas = [];
    private long? _since;

    public void Add(StatsReport report)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            _since ??= now.ToUnixTimeMilliseconds();
            Merge(_counters, report.Counters);
            Merge(_latency, report.Latency);
            Merge(_ttft, report.TimeToFirstToken);
            _replicas[report.Replica] = (Math.Max(0, report.ActiveStreams), Math.Max(0, report.Cooling), now);
            foreach (var gone in _replicas.Where(r => now - r.Value.Seen > ReplicaLifetime).Select(r => r.Key).ToList())
            {
                _replicas.Remove(gone);
            }
        }
    }

    public StatsSnapshot Snapshot(DateTimeOffset now)
    {
        lock (_gate)
        {
            var live = _replicas.Values.Where(r => now - r.Seen <= ReplicaLifetime).ToList();
            return new StatsSnapshot(now, new(_counters), new(_latency), new(_ttft), live.Sum(r => r.Streams), _since);
        }
    }

    /// <summary>Credentials cooling down, as the live replicas last reported them.</summary>
    public int Cooling(DateTimeOffset now)
    {
        lock (_gate)
        {
            return _replicas.Values.Where(r => now - r.Seen <= ReplicaLifetime).Select(r => r.Cooling).DefaultIfEmpty().Max();
        }
    }

    /// <summary>Counting starts again from now.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _counters.Clear();
            _latency.Clear();
            _ttft.Clear();
            _since = time.GetUtcNow().ToUnixTimeMilliseconds();
        }
    }

    private static void Merge<TKey>(Dictionary<TKey, long> into, Dictionary<TKey, long>? from) where TKey : notnull
    {
        foreach (var (key, value) in from ?? [])
        {
            if (value > 0)
            {
                into[key] = into.GetValueOrDefault(key) + value;
            }
        }
    }
}
