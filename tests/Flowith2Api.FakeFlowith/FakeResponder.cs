using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;

namespace Flowith2Api.FakeFlowith;

/// <summary>Plays a <see cref="FakeScenario"/> onto an HTTP response.</summary>
internal static class FakeResponder
{
    public const string StreamContentType = "text/plain; charset=UTF-8";
    public const string JsonContentType = "application/json; charset=utf-8";
    private const string ThinkOpen = "<think>";
    private const string ThinkClose = "</think>";

    private static readonly byte[] Html502 = Encoding.UTF8.GetBytes(
        "<!DOCTYPE html>\n<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n" +
        "<center><h1>502 Bad Gateway</h1></center>\n<hr><center>cloudflare</center>\n</body>\n</html>\n");

    private static readonly byte[] Text503 = "Service Unavailable: the upstream is overloaded, try again later."u8.ToArray();
    private static readonly byte[] Json401 = FlowithWire.ErrorJson("Invalid or expired token", 401);
    private static readonly byte[] Json402 = FlowithWire.ErrorJson("Insufficient credits", 402);
    private static readonly byte[] Json403 = FlowithWire.ErrorJson("Forbidden: this token may not use this API", 403);
    private static readonly byte[] Json429 = FlowithWire.ErrorJson("Too many requests, please slow down", 429);
    private static readonly byte[] Json500 = FlowithWire.ErrorJson("Internal server error", 500);

    /// <summary>Delays, then answers with an error status or lets <paramref name="answer"/> write the body.</summary>
    public static async Task RunAsync<TState>(
        HttpContext context,
        FakeScenario scenario,
        TState state,
        Func<HttpContext, FakeScenario, TState, CancellationToken, Task> answer,
        CancellationToken stopping)
    {
        CancellationTokenSource? linked = null;
        var ct = context.RequestAborted;
        if (HasDelays(scenario))
        {
            linked = CancellationTokenSource.CreateLinkedTokenSource(ct, stopping);
            ct = linked.Token;
        }

        try
        {
            if (!await DelayAsync(scenario.LatencyMs, ct) || !await DelayAsync(scenario.StallBeforeHeadersMs, ct))
            {
                context.Abort();
                return;
            }

            if (scenario.IsError)
            {
                await WriteStatusAsync(context.Response, scenario.Status!.Value, scenario.RetryAfterSeconds, ct);
                return;
            }

            await answer(context, scenario, state, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            context.Abort();
        }
        finally
        {
            linked?.Dispose();
        }
    }

    /// <summary>The streamed answer: <c>data: {json}</c> events in <c>text/plain</c>.</summary>
    public static async Task StreamAsync(HttpContext context, FakeScenario scenario, string text, CancellationToken ct)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = StreamContentType;
        if (scenario.EmptyBody)
            return;

        var events = new EventStream(context, scenario, ct);
        if (scenario.Searching)
        {
            events.WriteRawEvent(FlowithWire.SearchingJson);
            if (!await events.FlushEventAsync())
                return;
            events.WriteRawEvent(FlowithWire.SeedsJson);
            if (!await events.FlushEventAsync())
                return;
        }

        if (!scenario.Empty)
        {
            if (scenario.DocStyle)
            {
                var full = Compose(scenario.Think, text);
                if (await events.EmitAsync(full, 0, full.Length))
                    await events.CheckpointAsync();
                return;
            }

            if (scenario.Think is not null)
            {
                // The tags are split across events on purpose: "<thi" | "nk>" … "</thi" | "nk>".
                if (!await events.EmitAsync(ThinkOpen, 0, 4)
                    || !await events.EmitAsync(ThinkOpen, 4, 3)
                    || !await events.EmitChunkedAsync(scenario.Think)
                    || !await events.EmitAsync(ThinkClose, 0, 5)
                    || !await events.EmitAsync(ThinkClose, 5, 3))
                {
                    return;
                }
            }

            if (!await events.EmitChunkedAsync(text))
                return;
        }
        else if (scenario.DocStyle)
        {
            return;
        }

        if (!await events.CheckpointAsync())
            return;

        switch (scenario.Terminator)
        {
            case FakeTerminator.Final:
                events.WriteFinal("[DONE]", 0, 6);
                await events.FlushEventAsync();
                break;
            case FakeTerminator.Bare:
                events.WriteRawEvent(FlowithWire.BareDone);
                await events.FlushEventAsync();
                break;
            case FakeTerminator.Eof:
                break;
        }
    }

    /// <summary>The non-streaming answer: <c>{"tag":"final","content":"…"}</c> (or another field).</summary>
    public static async Task NonStreamAsync(HttpContext context, FakeScenario scenario, string text, CancellationToken ct)
    {
        if (scenario.ResetAfterChunks is not null)
        {
            context.Abort();
            return;
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType;
        if (scenario.StallAfterChunks is not null)
        {
            await response.StartAsync(ct);
            if (!await DelayAsync(scenario.StallMs, ct))
            {
                context.Abort();
                return;
            }
        }

        if (scenario.EmptyBody)
            return;

        var writer = response.BodyWriter;
        WriteNonStreamBody(writer, scenario.NonStreamField, scenario.Empty ? "" : Compose(scenario.Think, text));
        await writer.FlushAsync(ct);
    }

    /// <summary>Writes a fixed JSON body with status 200.</summary>
    public static async Task JsonAsync(HttpContext context, FakeScenario scenario, byte[] body, CancellationToken ct)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType;
        response.ContentLength = body.Length;
        await response.BodyWriter.WriteAsync(body, ct);
    }

    /// <summary>A JSON error <c>{"error":"…","code":N}</c>.</summary>
    public static async Task WriteJsonErrorAsync(HttpResponse response, int status, string message, CancellationToken ct)
    {
        var body = FlowithWire.ErrorJson(message, status);
        response.StatusCode = status;
        response.ContentType = JsonContentType;
        response.ContentLength = body.Length;
        await response.BodyWriter.WriteAsync(body, ct);
    }

    /// <summary>The scripted error answers: JSON, an HTML 502 page or a plain-text 503.</summary>
    public static async Task WriteStatusAsync(HttpResponse response, int status, int? retryAfterSeconds, CancellationToken ct)
    {
        response.StatusCode = status;
        byte[] body;
        switch (status)
        {
            case 502:
                response.ContentType = "text/html; charset=utf-8";
                body = Html502;
                break;
            case 503:
                response.ContentType = "text/plain; charset=utf-8";
                body = Text503;
                break;
            default:
                response.ContentType = JsonContentType;
                body = status switch
                {
                    401 => Json401,
                    402 => Json402,
                    403 => Json403,
                    429 => Json429,
                    500 => Json500,
                    _ => FlowithWire.ErrorJson($"HTTP {status}", status),
                };
                break;
        }

        if (status == 429 && retryAfterSeconds is int seconds)
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);

        response.ContentLength = body.Length;
        await response.BodyWriter.WriteAsync(body, ct);
    }

    /// <summary>Waits; false when cancelled (client gone or server stopping). <see cref="FakeScenario.Forever"/> waits until then.</summary>
    public static async ValueTask<bool> DelayAsync(int milliseconds, CancellationToken ct)
    {
        if (milliseconds != 0)
            await Task.Delay(milliseconds, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return !ct.IsCancellationRequested;
    }

    private static bool HasDelays(FakeScenario s) =>
        s.LatencyMs != 0 || s.StallBeforeHeadersMs != 0 || s.ChunkDelayMs != 0 || s.StallAfterChunks is not null;

    private static string Compose(string? think, string text) =>
        think is null ? text : string.Concat(ThinkOpen, think, ThinkClose, text);

    private static void WriteNonStreamBody(PipeWriter writer, string field, string content)
    {
        writer.Write("{\"tag\":\"final\",\""u8);
        writer.Write(Encoding.UTF8.GetBytes(field));
        writer.Write("\":"u8);
        FlowithWire.WriteJsonString(writer, content);
        writer.Write("}"u8);
    }

    /// <summary>Per-response state of a streamed answer: framing quirks, chunk counting, stalls and resets.</summary>
    private sealed class EventStream(HttpContext context, FakeScenario scenario, CancellationToken ct)
    {
        private const int SplitPieceBytes = 7;
        private const int ResetGraceMs = 100;
        private readonly PipeWriter _writer = context.Response.BodyWriter;
        private readonly ArrayBufferWriter<byte>? _split = scenario.SplitWrites ? new ArrayBufferWriter<byte>(256) : null;
        private int _events;
        private int _chunks;
        private bool _stalled;

        private IBufferWriter<byte> Target => _split is null ? _writer : _split;

        private ReadOnlySpan<byte> NewLine => scenario.Crlf ? "\r\n"u8 : "\n"u8;

        public async ValueTask<bool> EmitChunkedAsync(string text)
        {
            var size = scenario.ChunkSize;
            for (var start = 0; start < text.Length;)
            {
                var length = Math.Min(size, text.Length - start);
                var end = start + length;
                if (end < text.Length && char.IsHighSurrogate(text[end - 1]) && char.IsLowSurrogate(text[end]))
                    length++;
                if (!await EmitAsync(text, start, length))
                    return false;
                start += length;
            }

            return true;
        }

        /// <summary>One content chunk: stall/reset checks, the per-chunk delay, the event and a flush.</summary>
        public async ValueTask<bool> EmitAsync(string text, int start, int length)
        {
            if (!await CheckpointAsync())
                return false;
            if (scenario.ChunkDelayMs != 0 && !await DelayAsync(scenario.ChunkDelayMs, ct))
                return Abort();

            WriteFinal(text, start, length);
            _chunks++;
            return await FlushEventAsync();
        }

        /// <summary>Applies <c>stall-after</c> and <c>reset-after</c> once enough chunks went out.</summary>
        public async ValueTask<bool> CheckpointAsync()
        {
            if (scenario.StallAfterChunks is int stallAfter && !_stalled && _chunks >= stallAfter)
            {
                _stalled = true;
                if (!context.Response.HasStarted)
                    await context.Response.StartAsync(ct);
                if (!await DelayAsync(scenario.StallMs, ct))
                    return Abort();
            }

            if (scenario.ResetAfterChunks is int resetAfter && _chunks >= resetAfter)
            {
                if (!context.Response.HasStarted)
                    await context.Response.StartAsync(ct);

                // Kestrel sends flushed bytes asynchronously and a reset makes the peer drop what it
                // has not read yet: give the chunks a moment to reach the client before the abort.
                await DelayAsync(ResetGraceMs, ct);
                return Abort();
            }

            return true;
        }

        public void WriteFinal(string text, int start, int length)
        {
            var target = Target;
            WriteEventStart(target);
            target.Write(FlowithWire.FinalEventOpen);
            FlowithWire.WriteJsonString(target, text.AsSpan(start, length));
            target.Write("}"u8);
            WriteEventEnd(target);
        }

        public void WriteRawEvent(ReadOnlySpan<byte> payload)
        {
            var target = Target;
            WriteEventStart(target);
            target.Write(payload);
            WriteEventEnd(target);
        }

        /// <summary>Sends the event written so far (in small pieces when splitting); false when the client is gone.</summary>
        public async ValueTask<bool> FlushEventAsync()
        {
            _events++;
            if (_split is null)
                return IsOpen(await _writer.FlushAsync(ct));

            var bytes = _split.WrittenMemory;
            for (var start = 0; start < bytes.Length;)
            {
                var end = NextSplit(bytes.Span, start);
                if (!IsOpen(await _writer.WriteAsync(bytes[start..end], ct)))
                    return false;
                start = end;
            }

            _split.ResetWrittenCount();
            return true;
        }

        private static bool IsOpen(FlushResult result) => !result.IsCompleted && !result.IsCanceled;

        /// <summary>Pieces of at most 7 bytes that also cut right after every multi-byte UTF-8 lead byte.</summary>
        private static int NextSplit(ReadOnlySpan<byte> bytes, int start)
        {
            var end = Math.Min(start + SplitPieceBytes, bytes.Length);
            for (var i = start; i < end - 1; i++)
            {
                if (bytes[i] >= 0xC0)
                    return i + 1;
            }

            return end;
        }

        private void WriteEventStart(IBufferWriter<byte> target)
        {
            if (scenario.KeepAliveLines && _events > 0)
            {
                target.Write(NewLine);
                target.Write(": keep-alive"u8);
                target.Write(NewLine);
                target.Write(NewLine);
            }

            target.Write("data: "u8);
        }

        private void WriteEventEnd(IBufferWriter<byte> target)
        {
            target.Write(NewLine);
            target.Write(NewLine);
        }

        private bool Abort()
        {
            context.Abort();
            return false;
        }
    }
}
