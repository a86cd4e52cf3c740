using System.Text.Json.Serialization;

namespace Flowith2Api.FakeFlowith;

/// <summary>One request received on a Flowith route, as the fake server saw it.</summary>
public sealed record RecordedRequest
{
    /// <summary>1-based arrival number since the server started.</summary>
    public required long Sequence { get; init; }

    /// <summary>When the request was recorded (after its body was read).</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>HTTP method.</summary>
    public required string Method { get; init; }

    /// <summary>Request path, e.g. <c>/external/use/knowledge-base/seek</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Query string including the leading <c>?</c>, or empty.</summary>
    public string QueryString { get; init; } = "";

    /// <summary>All request headers (case-insensitive names; repeated values joined by <c>, </c>).</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>The body as UTF-8 text (empty for GET).</summary>
    public string Body { get; init; } = "";

    /// <summary>The bearer token, or null when missing.</summary>
    public string? Token { get; init; }

    /// <summary>The <c>X-Request-ID</c> header, or null.</summary>
    public string? RequestId { get; init; }

    /// <summary>The scenario applied (null when the request was rejected before one was chosen).</summary>
    [JsonConverter(typeof(FakeScenarioSpecJsonConverter))]
    public FakeScenario? Scenario { get; init; }

    /// <summary>Where <see cref="Scenario"/> came from.</summary>
    public FakeScenarioSource ScenarioSource { get; init; }

    /// <summary>A header value, or null.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
