using System.Net;
using System.Text;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Upstream;
using Flowith2Api.ServiceDefaults;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowith2Api.Tests.Unit;

/// <summary>
/// Whole upstream transcripts (exact bytes) through the real adapter, delivered in reads of every size from one byte
/// up, so events, lines and UTF-8 characters split across network reads are covered.
/// </summary>
public sealed class FlowithTranscriptTests
{
    private const string Emoji = "caf\u00e9 \u2615 \U0001F600";

    public static TheoryData<string, string, string> Transcripts => new()
    {
        { "incremental, final [DONE]", $"data: {{\"tag\":\"final\",\"content\":\"Hel\"}}\n\ndata: {{\"tag\":\"final\",\"content\":\"lo {Emoji}\"}}\n\ndata: {{\"tag\":\"final\",\"content\":\"[DONE]\"}}\n\n", $"Hello {Emoji}" },
        { "bare [DONE]", "data: {\"tag\":\"final\",\"content\":\"Hi\"}\n\ndata: {\"tag\":\"final\",\"content\":\" there\"}\n\ndata: [DONE]\n\n", "Hi there" },
        { "EOF", "data: {\"tag\":\"final\",\"content\":\"cut \"}\n\ndata: {\"tag\":\"final\",\"content\":\"off\"}\n\n", "cut off" },
        { "doc-style single final", "data: {\"tag\":\"final\",\"content\":\"The whole answer at once.\"}\n\n", "The whole answer at once." },
        { "CRLF, comments, blank keep-alives, searching and seeds", "\r\n: keep-alive\r\n\r\ndata: {\"tag\":\"searching\",\"content\":\"Searching...\"}\r\n\r\ndata: {\"tag\":\"seeds\",\"content\":[{\"id\":\"s1\",\"tokens\":5,\"content\":\"x\",\"order\":1,\"source_id\":\"a\",\"source_title\":\"t\",\"nip\":false}]}\r\n\r\n\r\ndata: {\"tag\":\"final\",\"content\":\"after\"}\r\n\r\ndata: {\"tag\":\"final\",\"content\":\" seeds\"}\r\n\r\ndata: {\"tag\":\"final\",\"content\":\"[DONE]\"}\r\n\r\n", "after seeds" },
        { "nothing after [DONE] is read", "data: {\"tag\":\"final\",\"content\":\"kept\"}\n\ndata: [DONE]\n\ndata: {\"tag\":\"final\",\"content\":\" ignored\"}\n\n", "kept" },
    };

    [Theory]
    [MemberData(nameof(Transcripts))]
    public async Task Every_transcript_reads_the_same_whatever_the_network_read_size(string name, string transcript, string expected)
    {
        foreach (var readSize in new[] { 1, 2, 3, 7, 64, 4096 })
        {
            var client = ClientFor(transcript, readSize, "text/plain; charset=UTF-8");
            await using var answer = await client.StreamAsync(Request(), "flo_test", "req-1", CancellationToken.None);
            var text = new StringBuilder();
            await foreach (var piece in answer.ReadAsync())
            {
                text.Append(piece);
            }

            Assert.True(expected == text.ToString(), $"{name}, reads of {readSize} bytes: got '{text}'");
        }
    }

    [Fact]
    public async Task An_in_stream_error_event_is_an_upstream_error()
    {
        var client = ClientFor("data: {\"tag\":\"final\",\"content\":\"partial\"}\n\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n", 16, "text/plain");
        await using var answer = await client.StreamAsync(Request(), "flo_test", "req-1", CancellationToken.None);
        var error = await Assert.ThrowsAsync<UpstreamException>(async () =>
        {
            await foreach (var _ in answer.ReadAsync())
            {
            }
        });
        Assert.Equal(UpstreamFailureKind.ServerError, error.Kind);
        Assert.Contains("overloaded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_non_streaming_request_answered_with_an_event_stream_is_still_read()
    {
        var client = ClientFor("data: {\"tag\":\"final\",\"content\":\"as \"}\n\ndata: {\"tag\":\"final\",\"content\":\"events\"}\n\ndata: [DONE]\n\n", 5, "text/plain");
        Assert.Equal("as events", await client.CompleteAsync(Request(), "flo_test", "req-1", CancellationToken.None));
    }

    private static ConversationRequest Request() => new() { Messages = [new(ConversationRole.User, "hi")], PublicModel = "flowith", Stream = true };

    private static FlowithClient ClientFor(string transcript, int readSize, string contentType) =>
        new(new HttpClient(new TranscriptHandler(Encoding.UTF8.GetBytes(transcript), readSize, contentType)),
            new FixedOptionsMonitor<FlowithOptions>(new FlowithOptions { Origin = new Uri("http://flowith.test") }),
            NullLogger<FlowithClient>.Instance,
            new ShutdownDrain(new Microsoft.Extensions.Hosting.Internal.ApplicationLifetime(NullLogger<Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>.Instance),
                new ConfigurationBuilder().Build()));

    private sealed class TranscriptHandler(byte[] body, int readSize, string contentType) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new StreamContent(new TrickleStream(body, readSize));
            content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        }
    }

    /// <summary>Returns at most <c>readSize</c> bytes per read, like a slow network.</summary>
    private sealed class TrickleStream(byte[] data, int readSize) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(readSize, buffer.Length), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
