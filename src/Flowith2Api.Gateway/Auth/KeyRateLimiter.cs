using System.Threading.RateLimiting;
using Flowith2Api.Contracts;
using StackExchange.Redis;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// Per-key requests per minute on <c>System.Threading.RateLimiting</c>: one partition per key and limit. With Redis a
/// partition is a <see cref="ClusterWindowLimiter"/> (one-minute windows counted across every Gateway replica, one round
/// trip); without Redis (embedded mode) a <see cref="FixedWindowRateLimiter"/> in this process. Over the limit the
/// caller learns how long until the window ends.
/// </summary>
public sealed class KeyRateLimiter : IAsyncDisposable
{
    private readonly PartitionedRateLimiter<ApiKeyEntry> _limiter;

    public KeyRateLimiter(IServiceProvider services, IConfiguration configuration, TimeProvider time)
    {
        var prefix = RedisLayout.Prefix(configuration) + "rl:";
        var redis = services.GetService<IConnectionMultiplexer>();
        _limiter = PartitionedRateLimiter.Create<ApiKeyEntry, (string Id, int Limit)>(key => key.RateLimitPerMinute is { } limit
            ? RateLimitPartition.Get((key.Id, limit), partition => redis is not null
                ? new ClusterWindowLimiter(redis, prefix + partition.Item1, partition.Item2, time)
                : new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
                {
                    PermitLimit = partition.Item2,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }))
            : RateLimitPartition.GetNoLimiter((key.Id, 0)));
    }

    /// <summary>Null when the request may go on; else how long until the key may call again.</summary>
    public async ValueTask<TimeSpan?> TryAcquireAsync(ApiKeyEntry key)
    {
        if (key.RateLimitPerMinute is null)
        {
            return null; // no partition lookup for the common case
        }

        using var lease = await _limiter.AcquireAsync(key);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : TimeSpan.FromMinutes(1);
    }

    public ValueTask DisposeAsync() => _limiter.DisposeAsync();
}

/// <summary>
/// A fixed one-minute window (aligned to the clock's minutes) counted in Redis, so every Gateway replica shares it:
/// INCR and EXPIRE in one batch. While Redis is away each replica counts in its own process, in the same windows.
/// </summary>
public sealed class ClusterWindowLimiter(IConnectionMultiplexer redis, string key, int limit, TimeProvider time) : RateLimiter
{
    private readonly Lock _gate = new();
    private long _localMinute = -1;
    private int _localCount;
    private long _lastUsed = time.GetTimestamp();

    public override TimeSpan? IdleDuration => time.GetElapsedTime(Interlocked.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate)
        {
            return new RateLimiterStatistics { CurrentAvailablePermits = Math.Max(0, limit - _localCount) };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Decide(CountLocally(permitCount));

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (permitCount == 0 || !redis.IsConnected)
        {
            return Decide(CountLocally(permitCount));
        }

        var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        try
        {
            var db = redis.GetDatabase();
            var counter = (RedisKey)$"{key}:{minute}";
            var batch = db.CreateBatch();
            var increment = batch.StringIncrementAsync(counter, permitCount);
            _ = batch.KeyExpireAsync(counter, TimeSpan.FromMinutes(2));
            batch.Execute();
            Interlocked.Exchange(ref _lastUsed, time.GetTimestamp());
            return Decide(await increment.WaitAsync(cancellationToken));
        }
        catch (RedisException)
        {
            return Decide(CountLocally(permitCount)); // Redis is away: this replica counts on its own meanwhile
        }
    }

    private long CountLocally(int permitCount)
    {
        var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        Interlocked.Exchange(ref _lastUsed, time.GetTimestamp());
        lock (_gate)
        {
            if (minute != _localMinute)
            {
                (_localMinute, _localCount) = (minute, 0);
            }

            _localCount += permitCount;
            return _localCount;
        }
    }

    private WindowLease Decide(long count) =>
        count <= limit ? WindowLease.Acquired : new WindowLease(TimeSpan.FromSeconds(60 - (time.GetUtcNow().ToUnixTimeSeconds() % 60)));

    /// <summary>A lease: granted, or refused with how long until the window ends.</summary>
    private sealed class WindowLease(TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly WindowLease Acquired = new(null);

        public override bool IsAcquired => retryAfter is null;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
