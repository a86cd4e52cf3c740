using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flowith2Api.FakeFlowith;
using static Flowith2Api.Tests.FakeFlowith.FakeFlowithTestSupport;

namespace Flowith2Api.Tests.FakeFlowith;

public sealed class FakeFlowithStreamingTests(FakeFlowithServerFixture fixture) : IClassFixture<FakeFlowithServerFixture>
{
    private readonly FakeFlowithServer _server = fixture.Server;

    [Fact]
    public async Task A_streamed_answer_is_text_plain_with_exact_final_events_and_a_final_DONE()
    {
        using var client = Client(_server, NewToken());

        var (response, body) = await SeekAsync(client, "hi", scenarioHeader: "text=Hello%20world!;chunk=5");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=UTF-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(
            "data: {\"tag\":\"final\",\"content\":\"Hello\"}\n\n" +
            "data: {\"tag\":\"final\",\"content\":\" worl\"}\n\n" +
            "data: {\"tag\":\"final\",\"content\":\"d!\"}\n\n" +
            "data: {\"tag\":\"final\",\"content\":\"[DONE]\"}\n\n",
            body);
    }

    [Fact]
    public async Task The_default_answer_echoes_the_last_user_message_in_chunks_of_eight()
    {
        using var client = Client(_server, NewToken());

        var (_, body) = await SeekAsync(client, "ping");

        Assert.Equal(["fake-flo", "with rep", "ly to: p", "ing", "[DONE]"], FinalPieces(body));
        Assert.Equal("fake-flowith reply to: ping", AnswerText(body));
    }

    [Theory]
    [InlineData("terminator=final", "data: {\"tag\":\"final\",\"content\":\"abc\"}\n\ndata: {\"tag\":\"final\",\"content\":\"[DONE]\"}\n\n")]
    [InlineData("terminator=bare", "data: {\"tag\":\"final\",\"content\":\"abc\"}\n\ndata: [DONE]\n\n")]
    [InlineData("terminator=eof", "data: {\"tag\":\"final\",\"content\":\"abc\"}\n\n")]
    [InlineData("doc-style=true;chunk=1", "data: {\"tag\":\"final\",\"content\":\"abc\"}\n\n")]
    public async Task Each_terminator_and_the_doc_style_end_the_stream_as_scripted(string spec, string expected)
    {
        using var client = Client(_server, NewToken());

        var (_, body) = await SeekAsync(client, "x", scenarioHeader: "text=abc;" + spec);

        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task The_doc_style_sends_the_whole_text_in_one_event_even_when_long()
    {
        using var client = Client(_server, NewToken());
        var text = new string('x', 5000);

        var (_, body) = await SeekAsync(client, "x", scenarioHeader: $"text={text};doc-style=true");

        var events = Events(body);
        Assert.Single(events);
        Assert.Equal(("final", text), events[0]);
    }

    [Fact]
    public async Task Searching_sends_searching_and_seeds_events_before_the_answer()
    {
        using var client = Client(_server, NewToken());

        var (_, body) = await SeekAsync(client, "q", scenarioHeader: "searching=true;text=ok");

        var events = Events(body);
        Assert.Equal(("searching", "Searching..."), events[0]);
        Assert.Equal("seeds", events[1].Tag);
        Assert.Contains("\"source_title\"", events[1].Content, StringComparison.Ordinal);
        Assert.Contains("\"nip\"", events[1].Content, StringComparison.Ordinal);
        Assert.Equal(("final", "ok"), events[2]);
        Assert.Equal("ok", AnswerText(body));
    }

    [Fact]
    public async Task Think_sends_reasoning_in_think_tags_split_across_event_boundaries()
    {
        using var client = Client(_server, NewToken());

        var (_, body) = await SeekAsync(client, "q", scenarioHeader: "think=Let%20me%20think;text=Answer;chunk=100");

        Assert.Equal(["<thi", "nk>", "Let me think", "</thi", "nk>", "Answer", "[DONE]"], FinalPieces(body));
        Assert.Equal("<think>Let me think</think>Answer", AnswerText(body));
    }

    [Fact]
    public async Task Chunks_never_split_surrogate_pairs_and_content_is_escaped_like_JSON_stringify()
    {
        using var client = Client(_server, NewToken());
        var text = "a😀\"\\\n\t\u0001é你";

        var (_, body) = await SeekAsync(client, "q", scenarioHeader: "chunk=1;text=" + Uri.EscapeDataString(text));

        Assert.Equal(["a", "😀", "\"", "\\", "\n", "\t", "\u0001", "é", "你", "[DONE]"], FinalPieces(body));
        Assert.Contains("data: {\"tag\":\"final\",\"content\":\"😀\"}\n\n", body, StringComparison.Ordinal);
        Assert.Contains("{\"tag\":\"final\",\"content\":\"\\\"\"}", body, StringComparison.Ordinal);
        Assert.Contains("{\"tag\":\"final\",\"content\":\"\\n\"}", body, StringComparison.Ordinal);
        Assert.Contains("{\"tag\":\"final\",\"content\":\"\\u0001\"}", body, StringComparison.Ordinal);
        Assert.Contains("{\"tag\":\"final\",\"content\":\"你\"}", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Crlf_uses_carriage_return_line_feeds_between_events()
    {
        using var client = Client(_server, NewToken());

        var (_, body) = await SeekAsync(client, "q", scenarioHeader: "crlf=true;text=ab;chunk=1");

        Assert.Equal(
            "data: {\"tag\":\"final\",\"content\":\"a\"}\r\n\r\n" +
            "data: {\"tag\":\"final\",\"content\":\"b\"}\r\n\r\n" +
            "data: {\"tag\":\"final\",\"content\":\"[DONE]\"}\r\n\r\n",
            body);
    }

    [Fact]
    public async Task Keepalive_puts_blank_and_comment_lines_between_events_without_changing_the_content()
    {
        using var client = Client(_server, NewToken());

        var (_, body) = await SeekAsync(client, "q", scenarioHeader: "keepalive=true;text=ab;chunk=1");

        Assert.Equal(
            "data: {\"tag\":\"final\",\"content\":\"a\"}\n\n" +
            "\n: keep-alive\n\n" +
            "data: {\"tag\":\"final\",\"content\":\"b\"}\n\n" +
            "\n: keep-alive\n\n" +
            "data: {\"tag\":\"final\",\"content\":\"[DONE]\"}\n\n",
            body);
        Assert.Equal("ab", AnswerText(body));
    }

    [Fact]
    public async Task Split_writes_give_the_same_bytes_as_a_normal_stream()
    {
        using var client = Client(_server, NewToken());
        const string spec = "text=h%C3%A9llo%20%E4%BD%A0%E5%A5%BD%20%F0%9F%98%80%20world;chunk=4";

        var (_, normal) = await SeekAsync(client, "q", scenarioHeader: spec);
        var (_, split) = await SeekAsync(client, "q", scenarioHeader: spec + ";split=true");

        Assert.Equal(normal, split);
        Assert.Equal("héllo 你好 😀 world", AnswerText(split));
    }

    [Fact]
    public async Task Split_writes_go_out_as_small_http_chunks_that_cut_inside_utf8_characters()
    {
        var chunks = await ReadHttpChunksAsync(_server.BaseUri, NewToken(), "text=%C3%A9%E4%BD%A0%F0%9F%98%80;split=true");

        var all = chunks.SelectMany(c => c).ToArray();
        Assert.Equal("data: {\"tag\":\"final\",\"content\":\"é你😀\"}\n\ndata: {\"tag\":\"final\",\"content\":\"[DONE]\"}\n\n", Encoding.UTF8.GetString(all));
        Assert.True(chunks.Count > 10, $"expected many small writes, got {chunks.Count}");
        Assert.All(chunks, c => Assert.InRange(c.Length, 1, 7));
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        Assert.Contains(chunks, c => !IsValidUtf8(strict, c));
    }

    [Fact]
    public async Task An_empty_stream_has_only_the_terminator()
    {
        using var client = Client(_server, NewToken());

        var (response, body) = await SeekAsync(client, "q", scenarioHeader: "empty=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("data: {\"tag\":\"final\",\"content\":\"[DONE]\"}\n\n", body);
        Assert.Equal("", AnswerText(body));
    }

    [Fact]
    public async Task An_empty_body_is_status_200_with_no_bytes_at_all()
    {
        using var client = Client(_server, NewToken());

        var (response, body) = await SeekAsync(client, "q", scenarioHeader: "empty-body=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=UTF-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("", body);
    }

    [Fact]
    public async Task Chunk_delay_and_latency_slow_the_answer_down()
    {
        using var client = Client(_server, NewToken());
        var watch = Stopwatch.StartNew();

        var (_, body) = await SeekAsync(client, "q", scenarioHeader: "text=abc;chunk=1;delay=60;latency=100");

        Assert.Equal("abc", AnswerText(body));
        Assert.True(watch.ElapsedMilliseconds >= 250, $"took only {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Events_are_flushed_one_by_one_while_the_answer_is_still_running()
    {
        using var client = Client(_server, NewToken());
        using var request = SeekRequest("q", scenarioHeader: "text=first%20second;chunk=6;stall-after=1;stall=forever");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var received = await ReadUntilAsync(stream, "\n\n", WaitTimeout);

        Assert.Equal("data: {\"tag\":\"final\",\"content\":\"first \"}\n\n", received);
    }

    private static bool IsValidUtf8(UTF8Encoding strict, byte[] bytes)
    {
        try
        {
            strict.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>Sends a streaming seek over a raw socket and returns the HTTP/1.1 chunk payloads.</summary>
    private static async Task<List<byte[]>> ReadHttpChunksAsync(Uri baseUri, string token, string spec)
    {
        using var cts = new CancellationTokenSource(WaitTimeout);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseUri.Host, baseUri.Port, cts.Token);
        await using var stream = tcp.GetStream();

        var body = Encoding.UTF8.GetBytes(SeekBody("q"));
        var head = $"POST /external/use/knowledge-base/seek HTTP/1.1\r\nHost: {baseUri.Authority}\r\n" +
                   $"Authorization: Bearer {token}\r\nx-fake-scenario: {spec}\r\nContent-Type: application/json\r\n" +
                   $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cts.Token);
        await stream.WriteAsync(body, cts.Token);

        var raw = new MemoryStream();
        await stream.CopyToAsync(raw, cts.Token);
        var bytes = raw.ToArray();

        var headerEnd = IndexOf(bytes, "\r\n\r\n"u8, 0) + 4;
        Assert.Contains("Transfer-Encoding: chunked", Encoding.ASCII.GetString(bytes, 0, headerEnd), StringComparison.OrdinalIgnoreCase);
        var chunks = new List<byte[]>();
        var pos = headerEnd;
        while (true)
        {
            var lineEnd = IndexOf(bytes, "\r\n"u8, pos);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(bytes, pos, lineEnd - pos), 16);
            if (size == 0)
                return chunks;
            chunks.Add(bytes[(lineEnd + 2)..(lineEnd + 2 + size)]);
            pos = lineEnd + 2 + size + 2;
        }
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle, int start)
    {
        var index = haystack.AsSpan(start).IndexOf(needle);
        Assert.True(index >= 0, "malformed HTTP response");
        return start + index;
    }
}
