using System.Text.Json.Serialization;

namespace Flowith2Api.Contracts;

/// <summary>A live credential as the ChatService's pool reads it (<c>GET /internal/credentials</c>): its value and state.</summary>
public sealed record InternalCredential([property: JsonPropertyName("value")] string? Value, [property: JsonPropertyName("state")] string? State);

public sealed record InternalCredentialList([property: JsonPropertyName("credentials")] IReadOnlyList<InternalCredential>? Credentials);

/// <summary>Why the upstream refused a credential (<c>POST /internal/credentials/{id}/disabled</c>), the value redacted.</summary>
public sealed record CredentialDisabledReport([property: JsonPropertyName("reason")] string? Reason);

/// <summary>One credential's batched outcomes since the last report (<c>POST /internal/credentials/outcomes</c>).</summary>
public sealed record CredentialOutcome(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("successes")] long Successes,
    [property: JsonPropertyName("failures")] long Failures,
    [property: JsonPropertyName("last_used")] DateTimeOffset LastUsed,
    [property: JsonPropertyName("last_error")] string? LastError);

[JsonSerializable(typeof(InternalCredentialList))]
[JsonSerializable(typeof(CredentialDisabledReport))]
[JsonSerializable(typeof(List<CredentialOutcome>))]
public sealed partial class InternalCredentialsJsonContext : JsonSerializerContext;
