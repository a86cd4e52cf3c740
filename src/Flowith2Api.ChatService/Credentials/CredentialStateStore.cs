using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Flowith2Api.ChatService.Credentials;

/// <summary>
/// Where the rotation cursor and the health of unhealthy credentials live: Redis, shared by every replica, or this
/// process alone when no Redis is configured. Healthy credentials have no entry.
/// </summary>
public interface ICredentialStateStore
{
    /// <summary>Advances the shared cursor and reads every stored health entry, in one round trip.</summary>
    Task<(long Cursor, IReadOnlyDictionary<string, CredentialHealth> Health)> NextAsync();

    Task<IReadOnlyDictionary<string, CredentialHealth>> ReadAllAsync();

    Task SetAsync(string id, CredentialHealth health);

    Task ClearAsync(string id);

    Task ResetCursorAsync(long value);

    /// <summary>True when this caller may run the periodic probe now (one replica at a time).</summary>
    Task<bool> TryTakeProbeTurnAsync(TimeSpan turn);
}

public sealed class InMemoryCredentialStateStore : ICredentialStateStore
{
    private readonly ConcurrentDictionary<string, CredentialHealth> _health = new();
    private long _cursor = -1;

    public Task<(long Cursor, IReadOnlyDictionary<string, CredentialHealth> Health)> NextAsync() =>
        Task.FromResult<(long, IReadOnlyDictionary<string, CredentialHealth>)>((Interlocked.Increment(ref _cursor), _health));

    public Task<IReadOnlyDictionary<string, CredentialHealth>> ReadAllAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, CredentialHealth>>(new Dictionary<string, CredentialHealth>(_health));

    public Task SetAsync(string id, CredentialHealth health)
    {
        _health[id] = health;
        return Task.CompletedTask;
    }

    public Task ClearAsync(string id)
    {
        _health.TryRemove(id, out _);
        return Task.CompletedTask;
    }

    public Task ResetCursorAsync(long value)
    {
        Interlocked.Exchange(ref _cursor, value - 1);
        return Task.CompletedTask;
    }

    public Task<bool> TryTakeProbeTurnAsync(TimeSpan turn) => Task.FromResult(true);
}

public sealed class RedisCredentialStateStore(IConnectionMultiplexer redis, RedisKeys keys) : ICredentialStateStore
{
    private readonly RedisKey _cursor = keys.For("pool:cursor");
    private readonly RedisKey _health = keys.For("pool:health");
    private readonly RedisKey _probeLock = keys.For("pool:probe-lock");
    private readonly RedisValue _probeOwner = Guid.NewGuid().ToString("N");

    public async Task<(long Cursor, IReadOnlyDictionary<string, CredentialHealth> Health)> NextAsync()
    {
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var cursor = batch.StringIncrementAsync(_cursor);
        var health = batch.HashGetAllAsync(_health);
        batch.Execute();
        return (await cursor - 1, ToDictionary(await health));
    }

    public async Task<IReadOnlyDictionary<string, CredentialHealth>> ReadAllAsync() =>
        ToDictionary(await redis.GetDatabase().HashGetAllAsync(_health));

    public Task SetAsync(string id, CredentialHealth health) =>
        redis.GetDatabase().HashSetAsync(_health, id, health.Serialize());

    public Task ClearAsync(string id) => redis.GetDatabase().HashDeleteAsync(_health, id);

    public Task ResetCursorAsync(long value) => redis.GetDatabase().StringSetAsync(_cursor, value);

    public Task<bool> TryTakeProbeTurnAsync(TimeSpan turn) =>
        redis.GetDatabase().StringSetAsync(_probeLock, _probeOwner, turn, When.NotExists);

    private static Dictionary<string, CredentialHealth> ToDictionary(HashEntry[] entries)
    {
        var result = new Dictionary<string, CredentialHealth>(entries.Length);
        foreach (var entry in entries)
        {
            if (CredentialHealth.Parse(entry.Value) is { } health)
            {
                result[entry.Name!] = health;
            }
        }

        return result;
    }
}

/// <summary>Every Redis key this service uses, under one prefix (<c>REDIS_KEY_PREFIX</c> [flowith2api:]).</summary>
public sealed class RedisKeys(string prefix)
{
    public string Prefix { get; } = prefix;

    public RedisKey For(string name) => Prefix + name;
}
