using Flowith2Api.Gateway.Auth;
using Flowith2Api.Tests.Sessions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Flowith2Api.Tests.Gateway;

/// <summary>Per-key limits: in process without Redis, shared by every replica with it; a key's new limit applies at once.</summary>
public sealed class KeyRateLimiterTests(RedisFixture redisFixture) : IClassFixture<RedisFixture>
{
    private static ApiKeyEntry Key(string id, int? limit) => new(id, id, IsAdmin: false, Hash: [1, 2, 3], RateLimitPerMinute: limit);

    private static KeyRateLimiter Limiter(IConnectionMultiplexer? redis, string prefix = "")
    {
        var services = new ServiceCollection();
        if (redis is not null)
        {
            services.AddSingleton(redis);
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["REDIS_KEY_PREFIX"] = prefix }).Build();
        return new KeyRateLimiter(services.BuildServiceProvider(), configuration, TimeProvider.System);
    }

    /// <summary>How many of <paramref name="calls"/> calls in a row were let through, and the wait the first refusal named.</summary>
    private static async Task<(int Allowed, TimeSpan? RetryAfter)> CallAsync(KeyRateLimiter limiter, ApiKeyEntry key, int calls)
    {
        var allowed = 0;
        TimeSpan? retryAfter = null;
        for (var i = 0; i < calls; i++)
        {
            if (await limiter.TryAcquireAsync(key) is { } wait)
            {
                retryAfter ??= wait;
            }
            else
            {
                allowed++;
            }
        }

        return (allowed, retryAfter);
    }

    [Fact]
    public async Task Without_redis_a_key_gets_its_limit_a_minute_then_a_wait_within_the_minute()
    {
        await using var limiter = Limiter(redis: null);
        var (allowed, retryAfter) = await CallAsync(limiter, Key("k1", 3), 10);
        Assert.Equal(3, allowed);
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));

        Assert.Equal(5, (await CallAsync(limiter, Key("k2", 5), 8)).Allowed); // another key has its own window
        Assert.Equal(20, (await CallAsync(limiter, Key("k3", null), 20)).Allowed); // no limit, no limiter
        Assert.Equal(4, (await CallAsync(limiter, Key("k1", 4), 6)).Allowed); // a raised limit applies at once
    }

    [Fact]
    public async Task With_redis_every_replica_counts_in_the_same_window()
    {
        // A minute boundary between the calls would open a new window: start early in a minute.
        var now = DateTimeOffset.UtcNow.Second;
        if (now > 50)
        {
            await Task.Delay(TimeSpan.FromSeconds(61 - now));
        }

        using var redis = await ConnectionMultiplexer.ConnectAsync(redisFixture.Redis.ConnectionString);
        var prefix = $"test-{Guid.NewGuid():N}:";
        await using var first = Limiter(redis, prefix);
        await using var other = Limiter(redis, prefix);
        var key = Key("shared", 4);
        var a = await CallAsync(first, key, 3);
        var b = await CallAsync(other, key, 3);
        Assert.Equal(4, a.Allowed + b.Allowed);
        Assert.InRange(b.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    }
}
