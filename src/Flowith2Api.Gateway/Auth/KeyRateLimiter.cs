using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// Per-key requests per minute, counted across every Gateway replica in Redis (one round trip), or in this process
/// without Redis. Fixed one-minute windows; over the limit the caller learns how long until the next window.
/// </summary>
public sealed class KeyRateLimiter(IServiceProvider services, IConfiguration configuration, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string KeyId, long Minute), int> _local = new();
    private readonly string _prefix = configuration["REDIS_KEY_PREFIX"] is { Length: > 0 } prefix ? prefix : "flowith2api:";

    /// <summary>Null when the request may go on; else how long until the key may call again.</summary>
    public async ValueTask<TimeSpan?> TryAcquireAsync(ApiKeyEntry key)
    {
        if (key.RateLimitPerMinute is not { } limit)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var minute = now.ToUnixTimeSeconds() / 60;
        long count;
        if (services.GetService<IConnectionMultiplexer>() is { IsConnected: true } redis)
        {
            try
            {
                var db = redis.GetDatabase();
                var counter = (RedisKey)$"{_prefix}rl:{key.Id}:{minute}";
                var batch = db.CreateBatch();
                var increment = batch.StringIncrementAsync(counter);
                _ = batch.KeyExpireAsync(counter, TimeSpan.FromMinutes(2));
                batch.Execute();
                count = await increment;
            }
            catch (RedisException)
            {
                count = CountLocally(key.Id, minute); // Redis is away: each replica counts on its own meanwhile
            }
        }
        else
        {
            count = CountLocally(key.Id, minute);
        }

        return count <= limit ? null : TimeSpan.FromSeconds(60 - (now.ToUnixTimeSeconds() % 60));
    }

    private int CountLocally(string keyId, long minute)
    {
        var count = _local.AddOrUpdate((keyId, minute), 1, static (_, c) => c + 1);
        foreach (var stale in _local.Keys.Where(k => k.Minute < minute))
        {
            _local.TryRemove(stale, out _);
        }

        return count;
    }
}
