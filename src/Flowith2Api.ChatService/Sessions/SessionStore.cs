using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Flowith2Api.ChatService.Credentials;
using StackExchange.Redis;

namespace Flowith2Api.ChatService.Sessions;

/// <summary>
/// One stored turn: a system, user, assistant or tool message. <see cref="Content"/> is the text the upstream saw (what
/// turns are compared by, and what the admin API shows); <see cref="Parts"/> keep a message's structure (tool calls and
/// results, attachments) when it had more than text.
/// </summary>
public sealed record StoredTurn([property: JsonPropertyName("role")] string Role, [property: JsonPropertyName("content")] string Content)
{
    [JsonPropertyName("parts")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ContentPart>? Parts { get; init; }

    public static StoredTurn From(ConversationMessage message) => new(message.Role switch
    {
        ConversationRole.Assistant => "assistant",
        ConversationRole.Tool => "tool",
        ConversationRole.System => "system",
        _ => "user",
    }, Upstream.Seek.SeekPrompt.Render(message))
    {
        Parts = message.Parts.All(p => p is TextPart) ? null : message.Parts,
    };

    public ConversationMessage ToMessage() => new(Role switch
    {
        "assistant" => ConversationRole.Assistant,
        "tool" => ConversationRole.Tool,
        "system" => ConversationRole.System,
        _ => ConversationRole.User,
    }, Parts ?? [new TextPart(Content)]);

    /// <summary>Turns are the same when the upstream saw the same text in the same role (how a resent history is recognised).</summary>
    public bool Equals(StoredTurn? other) => other is not null && Role == other.Role && Content == other.Content;

    public override int GetHashCode() => HashCode.Combine(Role, Content);
}

/// <summary>A session as stored: its owner (a key id, never a key), its knowledge-base list and its turns.</summary>
public sealed record SessionData
{
    [JsonPropertyName("owner")] public required string Owner { get; init; }
    [JsonPropertyName("created")] public required long CreatedUnixMs { get; init; }
    [JsonPropertyName("last_used")] public required long LastUsedUnixMs { get; init; }
    [JsonPropertyName("kb_list")] public required IReadOnlyList<string> KnowledgeBases { get; init; }
    [JsonPropertyName("turns")] public required IReadOnlyList<StoredTurn> Turns { get; init; }
}

/// <summary>A session read from the store, with the version a later write must match.</summary>
public sealed record VersionedSession(SessionData Data, long Version, int SizeBytes);

[JsonSerializable(typeof(SessionData))]
internal sealed partial class SessionJsonContext : JsonSerializerContext;

/// <summary>
/// Where sessions live: Redis (shared by every replica, surviving restarts as far as Redis persists) or this process.
/// Writes are compare-and-set on a version, so two turns racing on one session never overwrite each other.
/// </summary>
public interface ISessionStore
{
    Task<VersionedSession?> GetAsync(string id);

    /// <summary>Writes when the stored version is still <paramref name="expectedVersion"/> (0: the session must not exist yet).</summary>
    Task<bool> TryWriteAsync(string id, SessionData data, long expectedVersion, TimeSpan ttl);

    Task<bool> DeleteAsync(string id);

    /// <summary>Most recently used first.</summary>
    Task<(IReadOnlyList<string> Ids, long Total)> ListAsync(int offset, int limit, TimeSpan ttl);
}

public sealed class RedisSessionStore(IConnectionMultiplexer redis, RedisKeys keys, TimeProvider time) : ISessionStore
{
    // KEYS[1] session hash, KEYS[2] index; ARGV: expected version, data, ttl ms, id, last used ms
    private const string CompareAndSet = """
        local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
        if current ~= tonumber(ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], 'data', ARGV[2], 'version', current + 1)
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[5]) - tonumber(ARGV[3]))
        return 1
        """;

    private readonly RedisKey _index = keys.For("sessions:index");

    private RedisKey Key(string id) => keys.For("session:" + id);

    public async Task<VersionedSession?> GetAsync(string id)
    {
        var values = await redis.GetDatabase().HashGetAsync(Key(id), ["data", "version"]);
        if (values[0].IsNull)
        {
            return null;
        }

        var json = (string)values[0]!;
        var data = JsonSerializer.Deserialize(json, SessionJsonContext.Default.SessionData)!;
        return new VersionedSession(data, (long)values[1], System.Text.Encoding.UTF8.GetByteCount(json));
    }

    public async Task<bool> TryWriteAsync(string id, SessionData data, long expectedVersion, TimeSpan ttl)
    {
        var json = JsonSerializer.Serialize(data, SessionJsonContext.Default.SessionData);
        var result = await redis.GetDatabase().ScriptEvaluateAsync(CompareAndSet, [Key(id), _index],
            [expectedVersion, json, (long)ttl.TotalMilliseconds, id, data.LastUsedUnixMs]);
        return (long)result == 1;
    }

    public async Task<bool> DeleteAsync(string id)
    {
        var db = redis.GetDatabase();
        var deleted = await db.KeyDeleteAsync(Key(id));
        await db.SortedSetRemoveAsync(_index, id);
        return deleted;
    }

    public async Task<(IReadOnlyList<string> Ids, long Total)> ListAsync(int offset, int limit, TimeSpan ttl)
    {
        var db = redis.GetDatabase();
        await db.SortedSetRemoveRangeByScoreAsync(_index, double.NegativeInfinity, (time.GetUtcNow() - ttl).ToUnixTimeMilliseconds());
        var total = await db.SortedSetLengthAsync(_index);
        var ids = await db.SortedSetRangeByRankAsync(_index, offset, offset + limit - 1, Order.Descending);
        return ([.. ids.Select(i => (string)i!)], total);
    }
}

/// <summary>The single-process store: the same behaviour, in memory.</summary>
public sealed class InMemorySessionStore(TimeProvider time) : ISessionStore
{
    private readonly ConcurrentDictionary<string, (SessionData Data, long Version, int Size, DateTimeOffset Expires)> _sessions = new();
    private readonly Lock _gate = new();

    public Task<VersionedSession?> GetAsync(string id) =>
        Task.FromResult(_sessions.TryGetValue(id, out var entry) && entry.Expires > time.GetUtcNow()
            ? new VersionedSession(entry.Data, entry.Version, entry.Size)
            : null);

    public Task<bool> TryWriteAsync(string id, SessionData data, long expectedVersion, TimeSpan ttl)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var current = _sessions.TryGetValue(id, out var entry) && entry.Expires > now ? entry.Version : 0;
            if (current != expectedVersion)
            {
                return Task.FromResult(false);
            }

            var size = System.Text.Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(data, SessionJsonContext.Default.SessionData));
            _sessions[id] = (data, current + 1, size, now + ttl);
            foreach (var expired in _sessions.Where(s => s.Value.Expires <= now).Select(s => s.Key).ToList())
            {
                _sessions.TryRemove(expired, out _);
            }
            return Task.FromResult(true);
        }
    }

    public Task<bool> DeleteAsync(string id) => Task.FromResult(_sessions.TryRemove(id, out _));

    public Task<(IReadOnlyList<string> Ids, long Total)> ListAsync(int offset, int limit, TimeSpan ttl)
    {
        var now = time.GetUtcNow();
        var live = _sessions.Where(s => s.Value.Expires > now).OrderByDescending(s => s.Value.Data.LastUsedUnixMs).Select(s => s.Key).ToList();
        return Task.FromResult<(IReadOnlyList<string>, long)>(([.. live.Skip(offset).Take(limit)], live.Count));
    }
}
