namespace Flowith2Api.ChatService.Upstream;

/// <summary>How an upstream call failed; decides retry, cooldown and what the client is told.</summary>
public enum UpstreamFailureKind
{
    /// <summary>401/402/403: the credential is invalid, expired, out of credits or forbidden.</summary>
    CredentialRejected,

    /// <summary>429: the credential is rate limited.</summary>
    RateLimited,

    /// <summary>5xx or an HTML error page from an edge proxy.</summary>
    ServerError,

    /// <summary>The connection failed or broke.</summary>
    Network,

    /// <summary>One of our own timeouts fired (headers, body, stream idle, stream total).</summary>
    Timeout,

    /// <summary>This service is shutting down and its drain time ran out before the answer ended.</summary>
    ShuttingDown,

    /// <summary>A 2xx answer we could not read (not the wire format).</summary>
    BadResponse,

    /// <summary>An answer that cannot be made into what the request's output format requires (JSON, a schema).</summary>
    InvalidOutput,

    /// <summary>The upstream answered without any content.</summary>
    Empty,

    /// <summary>Any other 4xx: the upstream refused the request itself.</summary>
    RequestRejected,

    /// <summary>No credential is configured at all.</summary>
    NoCredentials,

    /// <summary>Every credential is disabled, cooling down, or already failed for this request.</summary>
    CredentialsExhausted,
}

/// <summary>An upstream failure, with nothing secret in its message.</summary>
public sealed class UpstreamException : Exception
{
    public UpstreamException(UpstreamFailureKind kind, string message, int? status = null, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Status = status;
        RetryAfter = retryAfter;
    }

    public UpstreamException()
    {
    }

    public UpstreamException(string message) : base(message)
    {
    }

    public UpstreamException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public UpstreamFailureKind Kind { get; }

    /// <summary>The upstream's HTTP status, when there was one.</summary>
    public int? Status { get; }

    public TimeSpan? RetryAfter { get; }
}
