using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Flowith2Api.ChatService.Credentials;
using Flowith2Api.ChatService.Sessions;
using StackExchange.Redis;

namespace Flowith2Api.ChatService.Dialects.Responses;

/// <summary>
/// What a later response continues from: every turn the upstream saw (instructions left out, as the Responses API
/// does not carry them over) with the answer last, and the names of the function calls made so far (a
/// <c>function_call_output</c> names only its call id).
/// </summary>
public sealed record ResponseContinuation
{
    [JsonPropertyName("turns")] public required IReadOnlyList<StoredTurn> Turns { get; init; }
    [JsonPropertyName("calls")] public required IReadOnlyDictionary<string, string> CallNames { get; init; }
}

/// <summary>A stored response: its owner (a key id, never a key), the response object, its input items and its continuation.</summary>
public sealed record StoredResponse(string Owner, string ResponseJson, string InputItemsJson, ResponseContinuation Continuation);

public enum StoredResponsePart
{
    Response,
    InputItems,
    Continuation,
}

[JsonSerializable(typeof(ResponseContinuation))]
internal sealed partial class ResponseStoreJsonContext : JsonSerializerContext;

/// <summary>
/// Where stored responses live (<c>store: true</c>): Redis, shared by every replica, or this process. Every read and
/// delete names the owner: another key's response is indistinguishable from one that never existed.
/// </summary>
public interface IResponseStore
{
    Task SaveAsync(string id, StoredResponse response, TimeSpan ttl);

    /// <summary>One part of the response as stored (JSON), or null when there is none for this owner.</summary>
    Task<string?> GetAsync(string id, string owner, StoredResponsePart part);

    Task<bool> DeleteAsync(string id, string owner);

    /// <summary>A failure of the store itself (Redis away or timing out), as opposed to a missing response.</summary>
    public static bool IsStoreFailure(Exception e) => e is StackExchange.Redis.RedisException or StackExchange.Redis.RedisTimeoutException;

    public static string Serialize(ResponseContinuation continuation) =>
        JsonSerializer.Serialize(continuation, ResponseStoreJsonContext.Default.ResponseContinuation);

    public static ResponseContinuation? Deserialize(string json) =>
        JsonSerializer.Deserialize(json, ResponseStoreJsonContext.Default.ResponseContinuation);
}

public sealed class RedisResponseStore(IConnectionMultiplexer redis, RedisKeys keys) : IResponseStore
{
    // KEYS[1] the response hash; ARGV[1] owner
    private const string DeleteOwned = """
        if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
        return redis.call('DEL', KEYS[1])
        """;

    private RedisKey Key(string id) => keys.For("response:" + id);

    private static RedisValue Field(StoredResponsePart part) => part switch
    {
        StoredResponsePart.Response => "response",
        StoredResponsePart.InputItems => "input",
        _ => "continuation",
    };

    public async Task SaveAsync(string id, StoredResponse response, TimeSpan ttl)
    {
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.HashSetAsync(Key(id),
        [
            new HashEntry("owner", response.Owner),
            new HashEntry(Field(StoredResponsePart.Response), response.ResponseJson),
            new HashEntry(Field(StoredResponsePart.InputItems), response.InputItemsJson),
            new HashEntry(Field(StoredResponsePart.Continuation), IResponseStore.Serialize(response.Continuation)),
        ]);
        _ = transaction.KeyExpireAsync(Key(id), ttl);
        if (!await transaction.ExecuteAsync())
        {
            throw new RedisException("The response could not be stored.");
        }
    }

    public async Task<string?> GetAsync(string id, string owner, StoredResponsePart part)
    {
        var values = await redis.GetDatabase().HashGetAsync(Key(id), ["owner", Field(part)]);
        return values[0] == owner && !values[1].IsNull ? (string)values[1]! : null;
    }

    public async Task<bool> DeleteAsync(string id, string owner) =>
        (long)await redis.GetDatabase().ScriptEvaluateAsync(DeleteOwned, [Key(id)], [owner]) == 1;
}

/// <summary>The responses this process is still writing (a slow store): a continuation of one waits for it.</summary>
public sealed class PendingResponseWrites
{
    private readonly ConcurrentDictionary<string, Task> _writes = new(StringComparer.Ordinal);

    public void Add(string id, Task write) => _writes[id] = write;

    public void Remove(string id) => _writes.TryRemove(id, out _);

    public Task? TryGet(string id) => _writes.TryGetValue(id, out var write) ? write : null;
}

/// <summary>The single-process store: the same behaviour, in memory, at most <see cref="MaxResponses"/> (oldest dropped first).</summary>
public sealed class InMemoryResponseStore(TimeProvider time) : IResponseStore
{
    public const int MaxResponses = 10_000;
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, (StoredResponse Response, DateTimeOffset Expires)> _responses = new(StringComparer.Ordinal);
    private long _nextSweepTicks;

    public Task SaveAsync(string id, StoredResponse response, TimeSpan ttl)
    {
        var now = time.GetUtcNow();
        _responses[id] = (response, now + ttl);
        var next = Interlocked.Read(ref _nextSweepTicks);
        var full = _responses.Count > MaxResponses;
        if ((full || now.UtcTicks >= next) && Interlocked.CompareExchange(ref _nextSweepTicks, (now + SweepInterval).UtcTicks, next) == next)
        {
            foreach (var (key, entry) in _responses)
            {
                if (entry.Expires <= now)
                {
                    _responses.TryRemove(key, out _);
                }
            }

            // Still too many: the ones that would expire first (the oldest) go, down to nine tenths of the cap.
            var excess = _responses.Count - MaxResponses * 9 / 10;
            if (full && excess > 0)
            {
                foreach (var key in _responses.OrderBy(r => r.Value.Expires).Take(excess).Select(r => r.Key).ToList())
                {
                    _responses.TryRemove(key, out _);
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<string?> GetAsync(string id, string owner, StoredResponsePart part) =>
        Task.FromResult(Find(id, owner) is { } response
            ? part switch
            {
                StoredResponsePart.Response => response.ResponseJson,
                StoredResponsePart.InputItems => response.InputItemsJson,
                _ => IResponseStore.Serialize(response.Continuation),
            }
            : null);

    public Task<bool> DeleteAsync(string id, string owner) =>
        Task.FromResult(Find(id, owner) is not null && _responses.TryRemove(id, out _));

    private StoredResponse? Find(string id, string owner) =>
        _responses.TryGetValue(id, out var entry) && entry.Expires > time.GetUtcNow() && string.Equals(entry.Response.Owner, owner, StringComparison.Ordinal)
            ? entry.Response
            : null;
}
