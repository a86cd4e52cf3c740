using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CsCheck;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Reliability.Tests.Fuzz;

public sealed class FuzzCluster : IAsyncLifetime
{
    public GatewayCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = "flo_fuzz_suite_credential_88a1" });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// Property-based fuzzing of the three dialects through the Gateway (CsCheck drives the choice of mutation and its
/// seed, and shrinks a failure to the smallest one): wrong types, missing fields, huge strings, deep nesting, invalid
/// UTF-8, NUL bytes, unpaired surrogates, enormous or negative numbers, unknown roles, thousands of messages, broken
/// tools and content parts. Every request built to be invalid is answered with a 4xx in the dialect's own envelope;
/// none is a 5xx; afterwards the services are healthy and memory is back near where it started.
/// </summary>
public sealed class HostileRequestFuzzTests(FuzzCluster fixture) : IClassFixture<FuzzCluster>
{
    public const int Iterations = 1000;

    public enum Dialect
    {
        Chat,
        Anthropic,
        Responses,
    }

    private const int Kinds = 22;

    /// <summary>A generated request: its body and whether it is certainly invalid (else a 200 is fine too).</summary>
    public sealed record Hostile(int Kind, string Description, byte[] Body, bool MustBeRejected);

    private static string Path(Dialect dialect) => dialect switch
    {
        Dialect.Chat => "/v1/chat/completions",
        Dialect.Anthropic => "/v1/messages",
        _ => "/v1/responses",
    };

    private static Dictionary<string, object?> Valid(Dialect dialect) => dialect switch
    {
        Dialect.Chat => new() { ["model"] = "flowith", ["messages"] = new object[] { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "hi" } } },
        Dialect.Anthropic => new()
        {
            ["model"] = "claude-sonnet-4",
            ["max_tokens"] = 64,
            ["messages"] = new object[] { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "hi" } },
        },
        // store: false, so what the memory check sees is leaks, not responses kept on purpose for an hour.
        _ => new()
        {
            ["model"] = "gpt-4.1-mini",
            ["store"] = false,
            ["input"] = new object[] { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "hi" } },
        },
    };

    private static string MessagesField(Dialect dialect) => dialect == Dialect.Responses ? "input" : "messages";

    private static byte[] Utf8(object? body) => JsonSerializer.SerializeToUtf8Bytes(body);

    public static Hostile Build(Dialect dialect, int kind, int seed)
    {
        var random = new Random(seed);
        var body = Valid(dialect);
        var messages = MessagesField(dialect);
        var maxTokens = dialect switch { Dialect.Chat => "max_tokens", Dialect.Anthropic => "max_tokens", _ => "max_output_tokens" };
        object Pick(params object?[] values) => values[random.Next(values.Length)]!;
        Dictionary<string, object?> Message(object? role, object? content) => new() { ["role"] = role, ["content"] = content };
        switch (kind)
        {
            case 0:
                {
                    var valid = Utf8(body);
                    return new(kind, "truncated JSON", valid[..random.Next(1, valid.Length - 1)], true);
                }

            case 1:
                return new(kind, "not an object", Encoding.UTF8.GetBytes((string)Pick("[]", "[1,2]", "42", "\"text\"", "null", "true", "", " ")), true);
            case 2:
                body[messages] = Pick(42, true, new Dictionary<string, object?> { ["role"] = "user" }, new object?[] { 1, 2 }, new object?[] { null });
                return new(kind, $"{messages} of a wrong type", Utf8(body), true);
            case 3:
                body.Remove(dialect == Dialect.Anthropic && random.Next(2) == 0 ? "max_tokens" : messages);
                return new(kind, "a required field missing", Utf8(body), true);
            case 4:
                body["model"] = Pick(42, new object[] { "a" }, new Dictionary<string, object?> { ["id"] = "x" }, true);
                return new(kind, "model of a wrong type", Utf8(body), true);
            case 5:
                {
                    var number = (string)Pick("1e30", "9223372036854775808", "-1", "0", "1.5", "\"10\"", "-9223372036854775809", "1e400", "[]");
                    var json = Encoding.UTF8.GetString(Utf8(body)).TrimEnd('}') + $",\"{maxTokens}\":{number}}}";
                    if (dialect == Dialect.Anthropic)
                    {
                        body.Remove("max_tokens");
                        json = Encoding.UTF8.GetString(Utf8(body)).TrimEnd('}') + $",\"max_tokens\":{number}}}";
                    }

                    return new(kind, $"{maxTokens}: {number}", Encoding.UTF8.GetBytes(json), true);
                }

            case 6:
                {
                    var value = (string)Pick("-1", "3", "\"hot\"", "1e400", "-0.5", "[]", "{}");
                    var json = Encoding.UTF8.GetString(Utf8(body)).TrimEnd('}') + $",\"temperature\":{value}}}";
                    return new(kind, $"temperature: {value}", Encoding.UTF8.GetBytes(json), true);
                }

            case 7:
                body[messages] = new object[] { Message(Pick("robot", "", "USER", "System ", "functions", "ü", 5, null), "hi") };
                return new(kind, "unknown role", Utf8(body), true);
            case 8:
                {
                    var depth = (int)Pick(70, 500, 5000, 50000);
                    var nested = new string('[', depth) + new string(']', depth);
                    var json = Encoding.UTF8.GetString(Utf8(body)).Replace("\"content\":\"hi\"", "\"content\":" + nested, StringComparison.Ordinal);
                    return new(kind, $"content nested {depth} deep", Encoding.UTF8.GetBytes(json), true);
                }

            case 9:
                {
                    var valid = Utf8(body);
                    var json = Encoding.UTF8.GetString(valid);
                    var at = json.IndexOf("hi", StringComparison.Ordinal);
                    byte[] bad = (byte[])Pick(new byte[] { 0xC3 }, new byte[] { 0xFF, 0xFE }, new byte[] { 0xED, 0xA0, 0x80 }, new byte[] { 0xF8, 0x88, 0x80, 0x80, 0x80 });
                    return new(kind, "invalid UTF-8 in a string", [.. valid[..at], .. bad, .. valid[at..]], true);
                }

            case 10:
                {
                    var valid = Utf8(body);
                    var at = Encoding.UTF8.GetString(valid).IndexOf("hi", StringComparison.Ordinal);
                    return new(kind, "a raw NUL byte in a string", [.. valid[..at], 0x00, .. valid[at..]], true);
                }

            case 11:
                {
                    var escape = (string)Pick("\\ud800", "\\udfff", "\\ud800\\ud800", "x\\udc00y");
                    var json = Encoding.UTF8.GetString(Utf8(body)).Replace("\"content\":\"hi\"", $"\"content\":\"{escape}\"", StringComparison.Ordinal);
                    return new(kind, $"unpaired surrogate {escape}", Encoding.UTF8.GetBytes(json), true);
                }

            case 12:
                {
                    var count = random.Next(1000, 6000);
                    var list = Enumerable.Range(0, count).Select(i => (object)Message(i % 2 == 0 ? "user" : "assistant", "m" + i)).ToList();
                    list.Add(Message("nobody", "last"));
                    body[messages] = list;
                    return new(kind, $"{count} messages, the last with an unknown role", Utf8(body), true);
                }

            case 13:
                {
                    var size = (int)Pick(20_000, 100_000, 400_000);
                    body[messages] = new object[] { Message("user", new string((char)random.Next('a', 'z'), size)) };
                    return new(kind, $"a {size}-character message", Utf8(body), false);
                }

            case 14:
                body[messages] = new object[] { Message("user", Pick(42, true, new Dictionary<string, object?> { ["text"] = "x" }, new object?[] { 5 })) };
                return new(kind, "content of a wrong type", Utf8(body), true);
            case 15:
                body[messages] = new object[]
                {
                    Message("user", new object[] { Pick(
                        new Dictionary<string, object?> { ["type"] = "image_url" },
                        new Dictionary<string, object?> { ["type"] = "image" },
                        new Dictionary<string, object?> { ["type"] = "input_image" },
                        new Dictionary<string, object?> { ["type"] = "no-such-part", ["text"] = "x" },
                        new Dictionary<string, object?> { ["type"] = 5 },
                        new Dictionary<string, object?> { ["text"] = 5, ["type"] = "text" }) }),
                };
                return new(kind, "a broken content part", Utf8(body), true);
            case 16:
                body["tools"] = Pick("x", 5, new object[] { 5 }, new object[] { new Dictionary<string, object?> { ["type"] = "function" } },
                    new object[] { new Dictionary<string, object?> { ["type"] = "function", ["function"] = new Dictionary<string, object?> { ["name"] = 5 } } },
                    new object[] { new Dictionary<string, object?> { ["name"] = "", ["input_schema"] = "x" } });
                return new(kind, "broken tools", Utf8(body), true);
            case 17:
                body["stream"] = Pick("yes", 1, new object[] { true }, new Dictionary<string, object?>());
                return new(kind, "stream of a wrong type", Utf8(body), true);
            case 18:
                body["tool_choice"] = Pick(5, "sometimes", new Dictionary<string, object?> { ["type"] = "function", ["name"] = "missing" },
                    new Dictionary<string, object?> { ["type"] = "tool", ["name"] = "missing" }, new object[] { "auto" });
                return new(kind, "tool_choice naming nothing offered", Utf8(body), true);
            case 19:
                body["top_p"] = Pick(-0.1, 1.5, "all", 1e300);
                return new(kind, "top_p out of range", Utf8(body), true);
            case 20:
                {
                    var json = Encoding.UTF8.GetString(Utf8(body));
                    var trailing = json.TrimEnd('}') + ",}";
                    var comment = "/* c */" + json;
                    return new(kind, "JSON with a trailing comma or a comment", Encoding.UTF8.GetBytes((string)Pick(trailing, comment, json + "x", json + json)), true);
                }

            default:
                body[random.Next(2) == 0 ? "metadata" : "user"] = Pick(new string('x', 200_000), 5, new object[] { 1 });
                body["\u0000weird"] = "\u0000";
                return new(kind, "hostile extra fields", Utf8(body), false);
        }
    }

    private static bool IsOwnEnvelope(Dialect dialect, string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            var root = json.RootElement;
            return dialect == Dialect.Anthropic
                ? root.GetProperty("type").GetString() == "error" && root.GetProperty("error").GetProperty("type").ValueKind == JsonValueKind.String
                    && !string.IsNullOrEmpty(root.GetProperty("error").GetProperty("message").GetString())
                : root.GetProperty("error").GetProperty("type").ValueKind == JsonValueKind.String
                    && !string.IsNullOrEmpty(root.GetProperty("error").GetProperty("message").GetString());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    [Theory]
    [InlineData(Dialect.Chat)]
    [InlineData(Dialect.Anthropic)]
    [InlineData(Dialect.Responses)]
    public async Task A_thousand_hostile_requests_are_each_answered_with_a_4xx_in_the_dialects_envelope(Dialect dialect)
    {
        var cluster = fixture.Cluster;
        using var http = cluster.CreateClient(timeout: TimeSpan.FromSeconds(60));
        using (var warm = await http.PostAsync(Path(dialect), new ByteArrayContent(Utf8(Valid(dialect))) { Headers = { ContentType = new("application/json") } }))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode); // loads the tokenizer and the caches before the baseline
        }

        var baseline = 0L;
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        // Three rounds of a thousand: the first two fill every pool and bounded cache a hostile stream can fill (Kestrel's
        // buffers, the array pools, the tokenizer's 8,192-word cache); the third must not grow memory past that — a leak would.
        for (var round = 0; round < 3; round++)
        {
            if (round == 2)
            {
                cluster.Fake.Requests.Clear();
                baseline = Memory();
            }

            await Gen.Select(Gen.Int[0, Kinds - 1], Gen.Int[0, 1_000_000]).SampleAsync(async (kind, seed) =>
            {
                var hostile = Build(dialect, kind, seed);
                using var content = new ByteArrayContent(hostile.Body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync(Path(dialect), content);
                var text = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                outcomes.AddOrUpdate(status.ToString(System.Globalization.CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
                Assert.True(status < 500, $"{hostile.Description} (kind {kind}, seed {seed}): {status} {text}");
                if (hostile.MustBeRejected)
                {
                    Assert.True(status is >= 400 and < 500, $"{hostile.Description} (kind {kind}, seed {seed}) was accepted: {status} {Trim(text)}");
                }

                if (status >= 400)
                {
                    Assert.True(IsOwnEnvelope(dialect, text), $"{hostile.Description} (kind {kind}, seed {seed}): {status} not in the {dialect} envelope: {Trim(text)}");
                }
            }, iter: Iterations, threads: 4, print: t => $"kind {t.Item1}, seed {t.Item2}");
        }

        // Healthy afterwards: a plain request works, and memory is back near the start.
        using var ok = await http.PostAsync(Path(dialect), new ByteArrayContent(Utf8(Valid(dialect))) { Headers = { ContentType = new("application/json") } });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var health = await http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        cluster.Fake.Requests.Clear(); // the fake's own record of what it received is the harness's memory, not ours
        var after = Memory();
        Assert.True(after - baseline < 24L * 1024 * 1024, $"managed memory grew by {(after - baseline) / 1024 / 1024} MiB over the third round");
        Assert.True(outcomes.Keys.All(k => k[0] != '5'), string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}")));
    }

    /// <summary>
    /// Every hostile kind, then a plain request, on one kept-alive HTTP/1.1 connection. An answer that lets its connection
    /// close must say so (<c>Connection: close</c>): a client reuses a connection the server did not say it would close,
    /// and a POST whose body went out on a connection closed under it fails outright ("the response ended prematurely"),
    /// as .NET, Node and Python clients do not resend a body. So a connection the Gateway drops must only ever follow an
    /// answer that said it would.
    /// </summary>
    [Theory]
    [InlineData(Dialect.Chat)]
    [InlineData(Dialect.Anthropic)]
    [InlineData(Dialect.Responses)]
    public async Task A_connection_is_only_closed_after_an_answer_that_said_so(Dialect dialect)
    {
        // Four clients at once, each on its own single connection, so the Gateway is under some load while it answers.
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(client => Task.Run(() => RunOnOneConnectionAsync(dialect, client, failures))));
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(20)));
    }

    private async Task RunOnOneConnectionAsync(Dialect dialect, int client, System.Collections.Concurrent.ConcurrentQueue<string> failures)
    {
        var connects = 0;
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectCallback = async (context, token) =>
            {
                Interlocked.Increment(ref connects);
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, token);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = fixture.Cluster.GatewayUri, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", GatewayCluster.UserKey);

        var saidClose = false;
        for (var kind = 0; kind < Kinds; kind++)
        {
            for (var seed = 0; seed < 6; seed++)
            {
                var hostile = Build(dialect, kind, (client * 1000) + seed);
                foreach (var (description, body) in new[] { (hostile.Description, hostile.Body), ("a plain request", Utf8(Valid(dialect))) })
                {
                    var before = Volatile.Read(ref connects);
                    try
                    {
                        using var content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } };
                        using var response = await http.PostAsync(Path(dialect), content);
                        await response.Content.ReadAsByteArrayAsync();
                        if (before > 0 && Volatile.Read(ref connects) > before && !saidClose)
                        {
                            failures.Enqueue($"{description} (kind {kind}) needed a new connection after an answer that did not say it closed");
                        }

                        saidClose = response.Headers.ConnectionClose == true;
                    }
                    catch (HttpRequestException e)
                    {
                        failures.Enqueue($"{description} (kind {kind}): {e.Message} {e.InnerException?.Message}");
                        saidClose = true; // the next request starts on a new connection
                    }
                }
            }
        }
    }

    [Fact]
    public async Task Gigantic_headers_and_bodies_over_the_limit_are_refused_without_disturbing_the_next_request()
    {
        var cluster = fixture.Cluster;
        using var http = cluster.CreateClient();
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
        {
            request.Headers.TryAddWithoutValidation("x-padding", new string('h', 200_000));
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode); // Kestrel refuses before any of our code runs
        }

        // A body declared over the limit is refused before it is read (the connection then closes, as HTTP/1.1 must).
        using (var client = new System.Net.Sockets.TcpClient())
        {
            await client.ConnectAsync(cluster.GatewayUri.Host, cluster.GatewayUri.Port);
            await using var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {GatewayCluster.UserKey}\r\nContent-Type: application/json\r\n"
                + $"Content-Length: {33 * 1024 * 1024}\r\n\r\n{{\"messages\":["));
            using var reader = new StreamReader(stream);
            var answer = await reader.ReadToEndAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            Assert.StartsWith("HTTP/1.1 413", answer, StringComparison.Ordinal);
            Assert.Contains("request_too_large", answer, StringComparison.Ordinal); // our envelope (chunked on the wire)
        }

        using var ok = await http.PostAsync("/v1/chat/completions", new ByteArrayContent(Utf8(Valid(Dialect.Chat))) { Headers = { ContentType = new("application/json") } });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    private static string Trim(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private static long Memory()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
