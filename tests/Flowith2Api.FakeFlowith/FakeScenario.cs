using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace Flowith2Api.FakeFlowith;

/// <summary>How a streamed answer ends.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FakeTerminator>))]
public enum FakeTerminator
{
    /// <summary><c>data: {"tag":"final","content":"[DONE]"}</c> (the real server's usual end).</summary>
    Final = 0,

    /// <summary>A bare <c>data: [DONE]</c> line.</summary>
    Bare = 1,

    /// <summary>No terminator: the body just ends.</summary>
    Eof = 2,
}

/// <summary>
/// One scripted answer of the fake Flowith server. Every property has a spec key (see
/// <see cref="Parse(string)"/>); defaults give a normal streamed answer in chunks of 8 characters.
/// </summary>
public sealed record FakeScenario
{
    /// <summary>A delay value meaning "until the client gives up or the server stops".</summary>
    public const int Forever = Timeout.Infinite;

    /// <summary>The default chunk size in UTF-16 code units.</summary>
    public const int DefaultChunkSize = 8;

    /// <summary>The default <c>Retry-After</c> seconds of a scripted 429.</summary>
    public const int DefaultRetryAfterSeconds = 1;

    private static readonly string[] KnownKeys =
    [
        "text", "chunk", "delay", "latency", "doc-style", "terminator", "searching", "think",
        "status", "retry-after", "stall-before-headers", "stall-after", "stall", "empty",
        "empty-body", "reset-after", "crlf", "split", "keepalive", "field", "ratelimit",
    ];

    private static readonly string[] NonStreamFields = ["content", "answer", "message", "text"];

    /// <summary>A scenario with every default: a normal answer.</summary>
    public static FakeScenario Default { get; } = new();

    /// <summary>Answer text (spec <c>text</c>); null means <c>fake-flowith reply to: &lt;last user message&gt;</c>.</summary>
    public string? Text { get; init; }

    /// <summary>Characters per <c>final</c> event (spec <c>chunk</c>); surrogate pairs are never split.</summary>
    public int ChunkSize
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ChunkSize), value, "ChunkSize must be at least 1.");
    } = DefaultChunkSize;

    /// <summary>Delay before each content chunk, in ms (spec <c>delay</c>).</summary>
    public int ChunkDelayMs
    {
        get;
        init => field = NonNegative(value, nameof(ChunkDelayMs));
    }

    /// <summary>Delay before the response headers, in ms (spec <c>latency</c>).</summary>
    public int LatencyMs
    {
        get;
        init => field = NonNegative(value, nameof(LatencyMs));
    }

    /// <summary>One single <c>final</c> event with the whole text, then EOF (spec <c>doc-style</c>).</summary>
    public bool DocStyle { get; init; }

    /// <summary>How the stream ends (spec <c>terminator=final|bare|eof</c>); ignored by <see cref="DocStyle"/>.</summary>
    public FakeTerminator Terminator { get; init; }

    /// <summary>Emit <c>searching</c> and <c>seeds</c> events first (spec <c>searching</c>).</summary>
    public bool Searching { get; init; }

    /// <summary>Reasoning sent as <c>&lt;think&gt;…&lt;/think&gt;</c> before the answer, tags split across events (spec <c>think</c>).</summary>
    public string? Think { get; init; }

    /// <summary>Answer with this HTTP status instead (spec <c>status</c>); null or 200 is a normal answer.</summary>
    public int? Status
    {
        get;
        init => field = value is null or (>= 200 and <= 599) ? value : throw new ArgumentOutOfRangeException(nameof(Status), value, "Status must be between 200 and 599.");
    }

    /// <summary><c>Retry-After</c> seconds on a 429 (spec <c>retry-after</c>, <c>none</c> = no header).</summary>
    public int? RetryAfterSeconds
    {
        get;
        init => field = value is null ? null : NonNegative(value.Value, nameof(RetryAfterSeconds));
    } = DefaultRetryAfterSeconds;

    /// <summary>Sleep before sending anything, in ms (spec <c>stall-before-headers</c>, <c>forever</c> = <see cref="Forever"/>).</summary>
    public int StallBeforeHeadersMs
    {
        get;
        init => field = Delay(value, nameof(StallBeforeHeadersMs));
    }

    /// <summary>Stall after this many content chunks (spec <c>stall-after</c>), for <see cref="StallMs"/>.</summary>
    public int? StallAfterChunks
    {
        get;
        init => field = value is null ? null : NonNegative(value.Value, nameof(StallAfterChunks));
    }

    /// <summary>Length of the mid-stream stall, in ms (spec <c>stall</c>); default <see cref="Forever"/>.</summary>
    public int StallMs
    {
        get;
        init => field = Delay(value, nameof(StallMs));
    } = Forever;

    /// <summary>No content at all: only the terminator (spec <c>empty</c>).</summary>
    public bool Empty { get; init; }

    /// <summary>Status 200 with a totally empty body (spec <c>empty-body</c>).</summary>
    public bool EmptyBody { get; init; }

    /// <summary>Abort the connection after this many content chunks (spec <c>reset-after</c>).</summary>
    public int? ResetAfterChunks
    {
        get;
        init => field = value is null ? null : NonNegative(value.Value, nameof(ResetAfterChunks));
    }

    /// <summary>Use <c>\r\n</c> line endings (spec <c>crlf</c>).</summary>
    public bool Crlf { get; init; }

    /// <summary>Write each event in small pieces with flushes, splitting JSON and UTF-8 characters (spec <c>split</c>).</summary>
    public bool SplitWrites { get; init; }

    /// <summary>Blank and <c>: keep-alive</c> comment lines between events (spec <c>keepalive</c>).</summary>
    public bool KeepAliveLines { get; init; }

    /// <summary>Non-streaming answer field: content, answer, message or text (spec <c>field</c>).</summary>
    public string NonStreamField
    {
        get;
        init => field = Array.IndexOf(NonStreamFields, value) >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(NonStreamField), value, "NonStreamField must be content, answer, message or text.");
    } = "content";

    /// <summary>Allow this many requests per minute per token, then 429 (spec <c>ratelimit</c>).</summary>
    public int? RateLimitPerMinute
    {
        get;
        init => field = value is null or >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(RateLimitPerMinute), value, "RateLimitPerMinute must be at least 1.");
    }

    /// <summary>True when this scenario answers with an error status rather than an answer.</summary>
    [JsonIgnore]
    public bool IsError => Status is int status && status != 200;

    /// <summary>
    /// Parses a spec: semicolon-separated <c>key=value</c> pairs with URL-encoded values, e.g.
    /// <c>status=429;retry-after=2</c> or <c>text=Hello%20world;chunk=3;delay=20</c>. A boolean key
    /// alone means true. An empty spec is <see cref="Default"/>.
    /// </summary>
    /// <exception cref="FormatException">An unknown or repeated key, or a bad value.</exception>
    public static FakeScenario Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var scenario = Default;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rawPart in spec.Split(';'))
        {
            var part = rawPart.Trim();
            if (part.Length == 0)
                continue;

            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = (eq < 0 ? part : part[..eq]).Trim().ToLowerInvariant();
            string? value;
            try
            {
                value = eq < 0 ? null : Uri.UnescapeDataString(part[(eq + 1)..].Trim());
            }
            catch (UriFormatException ex)
            {
                throw new FormatException($"Invalid URL encoding in fake scenario spec '{spec}'.", ex);
            }

            if (Array.IndexOf(KnownKeys, key) < 0)
                throw new FormatException($"Unknown fake scenario key '{key}' in '{spec}'. Known keys: {string.Join(", ", KnownKeys)}.");
            if (!seen.Add(key))
                throw new FormatException($"Fake scenario key '{key}' appears twice in '{spec}'.");

            try
            {
                scenario = Apply(scenario, key, value);
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw new FormatException($"Invalid value '{value}' for fake scenario key '{key}': {FirstLine(ex.Message)}", ex);
            }
        }

        return scenario;
    }

    /// <summary>Parses a spec, returning false and the reason instead of throwing.</summary>
    public static bool TryParse(string? spec, out FakeScenario scenario, out string? error)
    {
        try
        {
            scenario = spec is null ? Default : Parse(spec);
            error = null;
            return true;
        }
        catch (FormatException ex)
        {
            scenario = Default;
            error = ex.Message;
            return false;
        }
    }

    /// <summary>The spec string of this scenario (only non-default keys); <c>Parse(x.ToSpec()) == x</c>.</summary>
    public string ToSpec()
    {
        var sb = new StringBuilder();
        if (Text is not null) Add(sb, "text", Uri.EscapeDataString(Text));
        if (ChunkSize != DefaultChunkSize) Add(sb, "chunk", Int(ChunkSize));
        if (ChunkDelayMs != 0) Add(sb, "delay", Int(ChunkDelayMs));
        if (LatencyMs != 0) Add(sb, "latency", Int(LatencyMs));
        if (DocStyle) Add(sb, "doc-style", "true");
        if (Terminator != FakeTerminator.Final) Add(sb, "terminator", Terminator == FakeTerminator.Bare ? "bare" : "eof");
        if (Searching) Add(sb, "searching", "true");
        if (Think is not null) Add(sb, "think", Uri.EscapeDataString(Think));
        if (Status is int status) Add(sb, "status", Int(status));
        if (RetryAfterSeconds != DefaultRetryAfterSeconds) Add(sb, "retry-after", RetryAfterSeconds is int ra ? Int(ra) : "none");
        if (StallBeforeHeadersMs != 0) Add(sb, "stall-before-headers", DelayText(StallBeforeHeadersMs));
        if (StallAfterChunks is int stallAfter) Add(sb, "stall-after", Int(stallAfter));
        if (StallMs != Forever) Add(sb, "stall", DelayText(StallMs));
        if (Empty) Add(sb, "empty", "true");
        if (EmptyBody) Add(sb, "empty-body", "true");
        if (ResetAfterChunks is int resetAfter) Add(sb, "reset-after", Int(resetAfter));
        if (Crlf) Add(sb, "crlf", "true");
        if (SplitWrites) Add(sb, "split", "true");
        if (KeepAliveLines) Add(sb, "keepalive", "true");
        if (NonStreamField != "content") Add(sb, "field", NonStreamField);
        if (RateLimitPerMinute is int limit) Add(sb, "ratelimit", Int(limit));
        return sb.ToString();
    }

    /// <summary>The spec string (see <see cref="ToSpec"/>).</summary>
    public override string ToString() => ToSpec();

    private static FakeScenario Apply(FakeScenario s, string key, string? value) => key switch
    {
        "text" => s with { Text = value ?? "" },
        "chunk" => s with { ChunkSize = ParseInt(key, value) },
        "delay" => s with { ChunkDelayMs = ParseInt(key, value) },
        "latency" => s with { LatencyMs = ParseInt(key, value) },
        "doc-style" => s with { DocStyle = ParseBool(key, value) },
        "terminator" => s with { Terminator = ParseTerminator(value) },
        "searching" => s with { Searching = ParseBool(key, value) },
        "think" => s with { Think = value ?? "" },
        "status" => s with { Status = ParseInt(key, value) },
        "retry-after" => s with { RetryAfterSeconds = IsWord(value, "none") ? null : ParseInt(key, value) },
        "stall-before-headers" => s with { StallBeforeHeadersMs = ParseDelay(key, value) },
        "stall-after" => s with { StallAfterChunks = ParseInt(key, value) },
        "stall" => s with { StallMs = ParseDelay(key, value) },
        "empty" => s with { Empty = ParseBool(key, value) },
        "empty-body" => s with { EmptyBody = ParseBool(key, value) },
        "reset-after" => s with { ResetAfterChunks = ParseInt(key, value) },
        "crlf" => s with { Crlf = ParseBool(key, value) },
        "split" => s with { SplitWrites = ParseBool(key, value) },
        "keepalive" => s with { KeepAliveLines = ParseBool(key, value) },
        "field" => s with { NonStreamField = (value ?? "").ToLowerInvariant() },
        "ratelimit" => s with { RateLimitPerMinute = ParseInt(key, value) },
        _ => throw new FormatException($"Unknown fake scenario key '{key}'."),
    };

    private static int ParseInt(string key, string? value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new FormatException($"Invalid value '{value}' for fake scenario key '{key}': expected an integer.");

    private static int ParseDelay(string key, string? value) =>
        IsWord(value, "forever") ? Forever : ParseInt(key, value);

    private static bool ParseBool(string key, string? value)
    {
        if (value is null || IsWord(value, "true") || value == "1" || IsWord(value, "yes"))
            return true;
        if (IsWord(value, "false") || value == "0" || IsWord(value, "no"))
            return false;
        throw new FormatException($"Invalid value '{value}' for fake scenario key '{key}': expected true or false.");
    }

    private static FakeTerminator ParseTerminator(string? value)
    {
        if (IsWord(value, "final")) return FakeTerminator.Final;
        if (IsWord(value, "bare")) return FakeTerminator.Bare;
        if (IsWord(value, "eof")) return FakeTerminator.Eof;
        throw new FormatException($"Invalid value '{value}' for fake scenario key 'terminator': expected final, bare or eof.");
    }

    private static bool IsWord(string? value, string word) => string.Equals(value, word, StringComparison.OrdinalIgnoreCase);

    private static int NonNegative(int value, string name) =>
        value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative.");

    private static int Delay(int value, string name) =>
        value is >= 0 or Forever ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative (or Forever).");

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string DelayText(int value) => value == Forever ? "forever" : Int(value);

    private static string FirstLine(string message)
    {
        var nl = message.IndexOf('\n', StringComparison.Ordinal);
        return (nl < 0 ? message : message[..nl]).Trim();
    }

    private static void Add(StringBuilder sb, string key, string value)
    {
        if (sb.Length > 0)
            sb.Append(';');
        sb.Append(key).Append('=').Append(value);
    }
}

/// <summary>Where the scenario applied to a request came from (highest precedence first).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FakeScenarioSource>))]
public enum FakeScenarioSource
{
    /// <summary>No scenario was applied (the request was rejected before: 400 or 401).</summary>
    None = 0,

    /// <summary>The <c>x-fake-scenario</c> request header.</summary>
    Header,

    /// <summary>A scenario registered for the request's <c>X-Request-ID</c>.</summary>
    RequestId,

    /// <summary>The token's one-shot queue.</summary>
    Queue,

    /// <summary>The token's sticky scenario.</summary>
    Token,

    /// <summary>A <c>fake:&lt;spec&gt;</c> token.</summary>
    InlineToken,

    /// <summary>A <c>[[fake:&lt;spec&gt;]]</c> directive in the last user message.</summary>
    MessageDirective,

    /// <summary>The server-wide default scenario.</summary>
    Default,
}
