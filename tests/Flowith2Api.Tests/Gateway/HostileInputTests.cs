using System.Net;
using System.Text;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Gateway;

/// <summary>Malformed and hostile bodies: always a 4xx in the right envelope, never a 500, the service still healthy.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class HostileInputTests(GatewayClusterFixture fixture)
{
    public static TheoryData<string> Bodies()
    {
        var deep = new StringBuilder();
        for (var i = 0; i < 5000; i++)
        {
            deep.Append('[');
        }

        return new TheoryData<string>
        {
            """{"max_tokens":1e30,"messages":[{"role":"user","content":"hi"}]}""",
            """{"max_tokens":99999999999999999999,"messages":[{"role":"user","content":"hi"}]}""",
            """{"messages":[null]}""",
            """{"messages":[{"role":"user","content":[null]}]}""",
            """{"messages":[{"role":"user","content":[{"type":"text","text":null}]}]}""",
            """{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"x","parameters":"not an object"}}]}""",
            """{"messages":[{"role":"user","content":"hi"}],"tools":"all of them"}""",
            """{"messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"function","function":{"name":42}}}""",
            """{"messages":[{"role":"user","content":"hi"}],"stop":[1,2]}""",
            """{"messages":[{"role":"user","content":"hi"}],"stream":"yes"}""",
            """{"messages":[{"role":"user","content":"hi"}],"temperature":"NaN"}""",
            """{"messages":[{"role":"assistant","content":null,"tool_calls":[{"function":null}]}]}""",
            """{"model":{"name":"x"},"messages":[{"role":"user","content":"hi"}]}""",
            """{"max_tokens":10,"system":[{"type":"text"}],"messages":[{"role":"user","content":"hi"}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result"}]}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"x","input_schema":[]}],"tool_choice":{"type":"tool"}}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":"hi"}],"thinking":"on"}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":1}]}]}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":5}]}]}]}""",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"nul \u0000 byte\"}]}",
            deep.ToString(),
            "{\"messages\":" + new string('[', 100) + new string(']', 100) + "}",
            "",
            "{",
            // Found by the fuzz suite (issue 12): each was a 500 or was accepted.
            """{"max_tokens":10,"messages":[{"role":"user","content":"\ud800"}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":"x\udc00y"}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"image_url"}]}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"image"}]}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":""}}]}]}""",
        };
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Every_hostile_body_is_a_clear_4xx_on_both_dialects(string body)
    {
        using var http = fixture.Cluster.CreateClient();
        foreach (var path in new[] { "/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens" })
        {
            using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode is >= 400 and < 500 or 200, $"{path}: {(int)response.StatusCode} {text}");
            if (body.Contains("\\ud800", StringComparison.Ordinal) || body.Contains("\\udc00", StringComparison.Ordinal) || body.Contains("image", StringComparison.Ordinal))
            {
                Assert.True((int)response.StatusCode is >= 400 and < 500, $"{path}: {(int)response.StatusCode} {text}");
            }
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal); // no stack traces
        }
    }

    [Fact]
    public async Task Invalid_utf8_is_a_400_not_a_crash()
    {
        using var http = fixture.Cluster.CreateClient();
        var bytes = Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"bad """).Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat(Encoding.UTF8.GetBytes("\"}]}")).ToArray();
        foreach (var path in new[] { "/v1/chat/completions", "/v1/messages" })
        {
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new("application/json");
            using var response = await http.PostAsync(path, content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
    }

    /// <summary>
    /// A body that is invalid in its first bytes (or sent where no POST is taken), in two parts on one kept-alive connection, to the Gateway and to a
    /// ChatService directly (over HTTP/1.1, as the Gateway reaches it without h2c): the 400 comes only once the whole
    /// body is in (a service that answered early left the Gateway's proxy still sending the body, and the proxy dropped
    /// the client's connection after the answer), and the connection then carries the next request.
    /// </summary>
    [Theory]
    [InlineData("/v1/chat/completions", false)]
    [InlineData("/v1/messages", false)]
    [InlineData("/v1/responses", false)]
    [InlineData("/v1/chat/completions", true)]
    [InlineData("/v1/messages", true)]
    [InlineData("/v1/responses", true)]
    [InlineData("/v1/models", false)]
    [InlineData("/v1/models", true)]
    public async Task An_early_error_is_answered_once_the_whole_body_is_in_and_the_connection_stays_usable(string path, bool direct)
    {
        var head = Encoding.ASCII.GetBytes(new string('[', 200)); // past the JSON reader's depth at once
        var rest = Encoding.ASCII.GetBytes(new string(' ', 256 * 1024));
        var uri = direct ? fixture.Cluster.ChatServiceUris[0] : fixture.Cluster.GatewayUri;
        var credential = direct ? $"x-flowith2api-internal: {GatewayCluster.InternalSecret}" : $"Authorization: Bearer {GatewayCluster.UserKey}";
        using var client = new System.Net.Sockets.TcpClient { NoDelay = true };
        await client.ConnectAsync(uri.Host, uri.Port);
        await using var stream = client.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var request = $"POST {path} HTTP/1.1\r\nHost: {uri.Authority}\r\n{credential}\r\n"
            + $"Content-Type: application/json\r\nContent-Length: {head.Length + rest.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        await stream.WriteAsync(head, timeout.Token);
        await stream.FlushAsync(timeout.Token);

        var buffer = new byte[64 * 1024];
        var early = stream.ReadAsync(buffer, timeout.Token).AsTask();
        Assert.NotSame(early, await Task.WhenAny(early, Task.Delay(TimeSpan.FromMilliseconds(700), timeout.Token)));

        await stream.WriteAsync(rest, timeout.Token);
        var first = await ReadResponseAsync(stream, buffer, await early, timeout.Token);
        Assert.StartsWith(path == "/v1/models" ? "HTTP/1.1 404" : "HTTP/1.1 400", first, StringComparison.Ordinal); // no POST there
        Assert.DoesNotContain("Connection: close", first, StringComparison.OrdinalIgnoreCase);

        var valid = path == "/v1/messages"
            ? """{"model":"claude-sonnet-4","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"""
            : path == "/v1/responses"
                ? """{"model":"gpt-4.1-mini","store":false,"input":"hi"}"""
                : """{"model":"flowith","messages":[{"role":"user","content":"hi"}]}""";
        var second = path == "/v1/models"
            ? $"GET {path} HTTP/1.1\r\nHost: {uri.Authority}\r\n{credential}\r\n\r\n"
            : $"POST {path} HTTP/1.1\r\nHost: {uri.Authority}\r\n{credential}\r\n"
                + $"Content-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(valid)}\r\n\r\n{valid}";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(second), timeout.Token);
        var answer = await ReadResponseAsync(stream, buffer, 0, timeout.Token);
        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
    }

    /// <summary>One HTTP/1.1 response, its body sized or chunked (the first <paramref name="have"/> bytes already in <paramref name="buffer"/>).</summary>
    private static async Task<string> ReadResponseAsync(Stream stream, byte[] buffer, int have, CancellationToken cancellationToken)
    {
        var received = new List<byte>(buffer.AsSpan(0, have).ToArray());
        while (true)
        {
            var text = Encoding.UTF8.GetString(received.ToArray());
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var headers = text[..end].Split("\r\n").Select(line => line.Split(':', 2)).Where(parts => parts.Length == 2)
                    .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.OrdinalIgnoreCase);
                var whole = headers.TryGetValue("Content-Length", out var length)
                    ? received.Count >= Encoding.UTF8.GetByteCount(text[..end]) + 4 + int.Parse(length, System.Globalization.CultureInfo.InvariantCulture)
                    : headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding == "chunked"
                        ? text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal)
                        : throw new Xunit.Sdk.XunitException("the answer has neither a length nor chunks: " + text);
                if (whole)
                {
                    return text;
                }
            }

            var read = await stream.ReadAsync(buffer, cancellationToken);
            Assert.True(read > 0, "the connection closed before the answer was whole: " + text);
            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }
}
