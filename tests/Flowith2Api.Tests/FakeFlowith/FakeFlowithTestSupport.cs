using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flowith2Api.FakeFlowith;

namespace Flowith2Api.Tests.FakeFlowith;

/// <summary>One fake server shared by the tests of a class (each test uses its own tokens).</summary>
public sealed class FakeFlowithServerFixture : IAsyncLifetime
{
    public FakeFlowithServer Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await FakeFlowithServer.StartAsync().WaitAsync(FakeFlowithTestSupport.StartTimeout);

    public async Task DisposeAsync()
    {
        if (Server is not null)
            await Server.DisposeAsync();
    }
}

/// <summary>Request builders and an SSE reader for the fake server's wire format.</summary>
internal static class FakeFlowithTestSupport
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    public static string NewToken(string name = "tok") => $"{name}-{Guid.NewGuid():N}";

    public static HttpClient Client(FakeFlowithServer server, string? token, TimeSpan? timeout = null) =>
        server.CreateClient(token, timeout ?? RequestTimeout);

    public static string SeekBody(string userContent, bool stream = true, string? model = "gpt-4.1-mini")
    {
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "You are helpful." },
                new JsonObject { ["role"] = "user", ["content"] = userContent }),
            ["kb_list"] = new JsonArray("7d3c5c1e-0000-4000-8000-000000000000"),
            ["stream"] = stream,
        };
        if (model is not null)
            body["model"] = model;
        return body.ToJsonString();
    }

    public static HttpRequestMessage SeekRequest(
        string userContent,
        bool stream = true,
        string? scenarioHeader = null,
        string? requestId = null,
        string path = "/external/use/knowledge-base/seek")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(SeekBody(userContent, stream), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(stream ? "text/event-stream" : "application/json"));
        if (scenarioHeader is not null)
            request.Headers.Add("x-fake-scenario", scenarioHeader);
        if (requestId is not null)
            request.Headers.Add("X-Request-ID", requestId);
        return request;
    }

    public static async Task<(HttpResponseMessage Response, string Body)> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response, body);
    }

    public static async Task<(HttpResponseMessage Response, string Body)> SeekAsync(
        HttpClient client, string userContent, bool stream = true, string? scenarioHeader = null, string? requestId = null) =>
        await SendAsync(client, SeekRequest(userContent, stream, scenarioHeader, requestId));

    /// <summary>The <c>data:</c> payloads of an event stream (LF or CRLF lines; comments and blank lines skipped).</summary>
    public static List<string> DataPayloads(string body)
    {
        var payloads = new List<string>();
        foreach (var rawLine in body.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.StartsWith("data:", StringComparison.Ordinal))
                payloads.Add(line["data:".Length..].TrimStart(' '));
        }

        return payloads;
    }

    /// <summary>(tag, content-as-string) of each JSON event; a bare [DONE] is ("[DONE]", "").</summary>
    public static List<(string Tag, string Content)> Events(string body)
    {
        var events = new List<(string, string)>();
        foreach (var payload in DataPayloads(body))
        {
            if (payload == "[DONE]")
            {
                events.Add(("[DONE]", ""));
                continue;
            }

            using var doc = JsonDocument.Parse(payload);
            var tag = doc.RootElement.GetProperty("tag").GetString()!;
            var content = doc.RootElement.GetProperty("content");
            events.Add((tag, content.ValueKind == JsonValueKind.String ? content.GetString()! : content.GetRawText()));
        }

        return events;
    }

    /// <summary>The answer text: every <c>final</c> piece until <c>[DONE]</c>.</summary>
    public static string AnswerText(string body)
    {
        var sb = new StringBuilder();
        foreach (var (tag, content) in Events(body))
        {
            if (tag == "[DONE]" || (tag == "final" && content == "[DONE]"))
                break;
            if (tag == "final")
                sb.Append(content);
        }

        return sb.ToString();
    }

    public static List<string> FinalPieces(string body) =>
        Events(body).Where(e => e.Tag == "final").Select(e => e.Content).ToList();

    /// <summary>Reads from <paramref name="stream"/> until <paramref name="marker"/> has been seen.</summary>
    public static async Task<string> ReadUntilAsync(Stream stream, string marker, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        var received = new MemoryStream();
        while (true)
        {
            var read = await stream.ReadAsync(buffer, cts.Token);
            if (read == 0)
                throw new EndOfStreamException($"The stream ended before '{marker}'.");
            received.Write(buffer, 0, read);
            var text = Encoding.UTF8.GetString(received.ToArray());
            if (text.Contains(marker, StringComparison.Ordinal))
                return text;
        }
    }

    /// <summary>Polls <paramref name="condition"/> until true; fails after <paramref name="timeout"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, string because)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out after {timeout.TotalSeconds} s waiting until {because}.");
            await Task.Delay(20);
        }
    }
}
