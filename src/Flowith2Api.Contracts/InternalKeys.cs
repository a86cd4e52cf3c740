using System.Text.Json.Serialization;

namespace Flowith2Api.Contracts;

/// <summary>A console session as the AdminService stores it (<c>POST /internal/console-sessions</c>): hashes only.</summary>
public sealed record ConsoleSessionRow(
    [property: JsonPropertyName("token_hash")] string TokenHash,
    [property: JsonPropertyName("key_hash")] string KeyHash,
    [property: JsonPropertyName("expires")] long Expires);

/// <summary>One client key as the Gateway holds it (<c>GET /internal/keys</c>): its hash, never the key.</summary>
public sealed record InternalKey(
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("is_admin")] bool IsAdmin,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("rate_limit_per_minute"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RateLimitPerMinute);

/// <summary><c>GET /internal/keys</c>: every live key and console session, for the Gateway's in-memory stores.</summary>
public sealed record InternalKeyList(
    [property: JsonPropertyName("keys")] IReadOnlyList<InternalKey> Keys,
    [property: JsonPropertyName("console_sessions")] IReadOnlyList<ConsoleSessionRow> ConsoleSessions);

[JsonSerializable(typeof(ConsoleSessionRow))]
[JsonSerializable(typeof(InternalKeyList))]
public sealed partial class InternalKeysJsonContext : JsonSerializerContext;
