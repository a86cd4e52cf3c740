namespace Flowith2Api.ChatService.Upstream;

/// <summary>What the client is told about an upstream failure: status, OpenAI type and code (dialects map the type).</summary>
public static class UpstreamErrors
{
    public static (int Status, string Type, string Code) Classify(UpstreamException e) => e.Kind switch
    {
        UpstreamFailureKind.NoCredentials => (StatusCodes.Status503ServiceUnavailable, "server_error", "no_upstream_credentials"),
        UpstreamFailureKind.CredentialsExhausted or UpstreamFailureKind.CredentialRejected =>
            (StatusCodes.Status503ServiceUnavailable, "server_error", "upstream_credentials_exhausted"),
        UpstreamFailureKind.RateLimited => (StatusCodes.Status429TooManyRequests, "rate_limit_error", "upstream_rate_limited"),
        UpstreamFailureKind.Timeout => (StatusCodes.Status504GatewayTimeout, "server_error", "upstream_timeout"),
        UpstreamFailureKind.Empty => (StatusCodes.Status502BadGateway, "server_error", "upstream_empty_response"),
        UpstreamFailureKind.ShuttingDown => (StatusCodes.Status503ServiceUnavailable, "server_error", "service_shutting_down"),
        UpstreamFailureKind.InvalidOutput => (StatusCodes.Status502BadGateway, "server_error", "invalid_model_output"),
        _ => (StatusCodes.Status502BadGateway, "server_error", "upstream_error"),
    };

    /// <summary>The OpenAI-style code of a failure after the first byte (an error event in the stream).</summary>
    public static string StreamCode(UpstreamException e) => e.Kind switch
    {
        UpstreamFailureKind.Timeout => "upstream_timeout",
        UpstreamFailureKind.ShuttingDown => "service_shutting_down",
        UpstreamFailureKind.InvalidOutput => "invalid_model_output",
        _ => "upstream_stream_failed",
    };

    /// <summary>The message of a failure after the first byte.</summary>
    public static string StreamMessage(UpstreamException e) =>
        e.Kind == UpstreamFailureKind.InvalidOutput ? e.Message : $"The upstream stream failed: {e.Message}";

    /// <summary>Tells the client when to come back, when the failure says (429s, exhausted credentials).</summary>
    public static void WriteRetryAfter(HttpResponse response, UpstreamException e)
    {
        if (e.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
