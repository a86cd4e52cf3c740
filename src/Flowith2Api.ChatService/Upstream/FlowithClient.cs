using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Upstream;

/// <summary>
/// The Flowith seek API adapter (UPSTREAM.md). It reads the status before anything is committed to the client,
/// classifies failures into <see cref="UpstreamException"/>, and reads the answer as bytes: an event stream
/// (incremental <c>final</c> events, any of the three terminators, split reads, CRLF, keep-alive lines), the
/// doc-style single final, or a JSON answer.
/// </summary>
public sealed partial class FlowithClient(HttpClient http, IOptionsMonitor<FlowithOptions> options, ILogger<FlowithClient> logger, ShutdownDrain drain)
{
    private const int MaxErrorBodyBytes = 8 * 1024;
    private static readonly MediaTypeWithQualityHeaderValue AcceptEventStream = new("text/event-stream");
    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");

    /// <summary>Sends a non-streaming request and returns the whole answer text.</summary>
    public async Task<string> CompleteAsync(ConversationRequest request, string credential, string requestId, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, drain.Expired);
        timeout.CancelAfter(settings.HeadersTimeoutMs);
        using var response = await SendAsync(request, credential, requestId, stream: false, timeout, cancellationToken);
        timeout.CancelAfter(settings.BodyTimeoutMs);
        byte[] body;
        try
        {
            body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            throw Translate(e, "reading the answer", cancellationToken, drain.Expired);
        }

        if (IsEventStream(response, body))
        {
            return CollectEvents(body);
        }

        return FlowithWire.ParseCompleteAnswer(body)
            ?? throw new UpstreamException(UpstreamFailureKind.BadResponse,
                $"The upstream answered 200 with {FlowithWire.DescribeErrorBody(body, response.Content.Headers.ContentType?.MediaType)} instead of an answer.");
    }

    /// <summary>
    /// Sends a streaming request and returns once the upstream's status is known to be a success; the caller
    /// enumerates <see cref="FlowithAnswer.ReadAsync"/> for the answer pieces.
    /// </summary>
    public async Task<FlowithAnswer> StreamAsync(ConversationRequest request, string credential, string requestId, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        // The drain's end cancels the stream too: the caller then ends it with a proper final event.
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, drain.Expired);
        try
        {
            timeout.CancelAfter(settings.HeadersTimeoutMs);
            var response = await SendAsync(request, credential, requestId, stream: true, timeout, cancellationToken);
            return new FlowithAnswer(response, timeout, settings, cancellationToken, drain.Expired);
        }
        catch
        {
            timeout.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The upstream's model list (<c>GET …/knowledge-base/models</c>) with one credential: the catalogue's source and
    /// the probe that tells whether a disabled credential works again.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListModelsAsync(string credential, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.HeadersTimeoutMs);
        using var message = new HttpRequestMessage(HttpMethod.Get, settings.ModelsUri);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        message.Headers.Accept.Add(AcceptJson);
        byte[] body;
        HttpStatusCode status;
        string? mediaType;
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, timeout.Token);
            status = response.StatusCode;
            mediaType = response.Content.Headers.ContentType?.MediaType;
            body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            throw Translate(e, "listing models", cancellationToken);
        }

        if ((int)status is 401 or 402 or 403)
        {
            throw new UpstreamException(UpstreamFailureKind.CredentialRejected, $"The upstream answered {(int)status} to the model list.", (int)status);
        }

        if ((int)status >= 300)
        {
            throw new UpstreamException((int)status == 429 ? UpstreamFailureKind.RateLimited : UpstreamFailureKind.ServerError,
                $"The upstream answered {(int)status} to the model list: {FlowithWire.DescribeErrorBody(body, mediaType)}", (int)status);
        }

        return FlowithWire.ParseModelList(body)
            ?? throw new UpstreamException(UpstreamFailureKind.BadResponse, "The upstream's model list is not in the expected format.");
    }

    private async Task<HttpResponseMessage> SendAsync(ConversationRequest request, string credential, string requestId, bool stream,
        CancellationTokenSource timeout, CancellationToken clientToken)
    {
        var settings = options.CurrentValue;
        using var message = new HttpRequestMessage(HttpMethod.Post, settings.SeekUri);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        message.Headers.Accept.Add(stream ? AcceptEventStream : AcceptJson);
        message.Headers.TryAddWithoutValidation("X-Request-ID", requestId);
        var body = FlowithWire.WriteRequestBody(request, request.KnowledgeBases ?? [Guid.NewGuid().ToString()], stream);
        message.Content = new ByteArrayContent(body);
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            throw Translate(e, "waiting for the answer's headers", clientToken, drain.Expired);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var errorBody = await ReadErrorBodyAsync(response, timeout.Token);
            var description = Redaction.Redact(FlowithWire.DescribeErrorBody(errorBody, response.Content.Headers.ContentType?.MediaType), credential);
            LogUpstreamStatus(logger, status, SeedSettings.Mask(credential), description);
            var kind = status switch
            {
                401 or 402 or 403 => UpstreamFailureKind.CredentialRejected,
                429 => UpstreamFailureKind.RateLimited,
                >= 500 => UpstreamFailureKind.ServerError,
                _ => UpstreamFailureKind.RequestRejected,
            };
            throw new UpstreamException(kind, $"The upstream answered {status}: {description}", status, RetryAfterOf(response));
        }
    }

    private static async Task<byte[]> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxErrorBodyBytes];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
            {
                total += read;
            }

            return buffer[..total];
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            return [];
        }
    }

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private static bool IsEventStream(HttpResponseMessage response, ReadOnlySpan<byte> body)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        return mediaType is "text/event-stream" || (mediaType is not "application/json" && body.TrimStart(" \r\n\t"u8).StartsWith("data:"u8));
    }

    private static string CollectEvents(byte[] body)
    {
        var text = new System.Text.StringBuilder();
        var parser = SseParser.Create(new MemoryStream(body), static (_, data) => FlowithWire.ParseEvent(data));
        foreach (var item in parser.Enumerate())
        {
            switch (item.Data.Kind)
            {
                case FlowithEventKind.Content:
                    text.Append(item.Data.Text);
                    break;
                case FlowithEventKind.Error:
                    throw new UpstreamException(UpstreamFailureKind.ServerError, $"The upstream reported an error: {item.Data.Text}");
                case FlowithEventKind.Done:
                    return text.ToString();
            }
        }

        return text.ToString();
    }

    internal static UpstreamException Translate(Exception e, string during, CancellationToken clientToken, CancellationToken drainExpired = default)
    {
        if (clientToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The client went away.", e, clientToken);
        }

        if (e is OperationCanceledException && drainExpired.IsCancellationRequested)
        {
            return new UpstreamException(UpstreamFailureKind.ShuttingDown,
                "The service is shutting down and its drain time ran out before the answer ended; please retry.", inner: e);
        }

        return e is OperationCanceledException
            ? new UpstreamException(UpstreamFailureKind.Timeout, $"The upstream timed out {during}.", inner: e)
            : new UpstreamException(UpstreamFailureKind.Network, $"The upstream connection failed {during}.", inner: e);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Flowith answered {Status} for credential {Credential}: {Description}")]
    private static partial void LogUpstreamStatus(ILogger logger, int status, string credential, string description);
}

/// <summary>
/// An open upstream answer. <see cref="ReadAsync"/> yields answer pieces as they arrive, enforcing the idle
/// timeout between events and the total stream timeout; it ends at <c>[DONE]</c> or EOF.
/// </summary>
public sealed class FlowithAnswer : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly CancellationTokenSource _timeout;
    private readonly FlowithOptions _settings;
    private readonly CancellationToken _clientToken;
    private readonly CancellationToken _drainExpired;

    internal FlowithAnswer(HttpResponseMessage response, CancellationTokenSource timeout, FlowithOptions settings, CancellationToken clientToken,
        CancellationToken drainExpired)
    {
        _response = response;
        _timeout = timeout;
        _settings = settings;
        _clientToken = clientToken;
        _drainExpired = drainExpired;
    }

    public async IAsyncEnumerable<string> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        Stream body;
        try
        {
            body = await _response.Content.ReadAsStreamAsync(_timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            throw FlowithClient.Translate(e, "opening the stream", _clientToken, _drainExpired);
        }

        if (_response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            yield return await ReadJsonAnswerAsync(body);
            yield break;
        }

        var parser = SseParser.Create(body, static (_, data) => FlowithWire.ParseEvent(data));
        await using var events = parser.EnumerateAsync(_timeout.Token).GetAsyncEnumerator(_timeout.Token);
        while (true)
        {
            ArmTimer(started);
            bool more;
            try
            {
                more = await events.MoveNextAsync();
            }
            catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
            {
                throw Translate(e, started);
            }

            if (!more)
            {
                yield break;
            }

            var item = events.Current.Data;
            switch (item.Kind)
            {
                case FlowithEventKind.Content when !string.IsNullOrEmpty(item.Text):
                    yield return item.Text;
                    break;
                case FlowithEventKind.Error:
                    throw new UpstreamException(UpstreamFailureKind.ServerError, $"The upstream reported an error mid-stream: {item.Text}");
                case FlowithEventKind.Done:
                    yield break;
            }
        }
    }

    private async Task<string> ReadJsonAnswerAsync(Stream body)
    {
        _timeout.CancelAfter(_settings.BodyTimeoutMs);
        using var buffer = new MemoryStream();
        try
        {
            await body.CopyToAsync(buffer, _timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            throw FlowithClient.Translate(e, "reading the answer", _clientToken, _drainExpired);
        }

        return FlowithWire.ParseCompleteAnswer(buffer.GetBuffer().AsSpan(0, (int)buffer.Length))
            ?? throw new UpstreamException(UpstreamFailureKind.BadResponse, "The upstream answered 200 with JSON that is not an answer.");
    }

    /// <summary>The next event must arrive within the idle timeout and before the stream's total deadline.</summary>
    private void ArmTimer(long started)
    {
        var remaining = _settings.StreamTotalTimeoutMs - (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        _timeout.CancelAfter(Math.Max(1, Math.Min(_settings.StreamIdleTimeoutMs, remaining)));
    }

    private UpstreamException Translate(Exception e, long started)
    {
        if (e is OperationCanceledException && !_clientToken.IsCancellationRequested && !_drainExpired.IsCancellationRequested)
        {
            var total = Stopwatch.GetElapsedTime(started).TotalMilliseconds >= _settings.StreamTotalTimeoutMs;
            return new UpstreamException(UpstreamFailureKind.Timeout,
                total
                    ? $"The upstream stream exceeded the total timeout of {_settings.StreamTotalTimeoutMs} ms."
                    : $"The upstream sent nothing for {_settings.StreamIdleTimeoutMs} ms.",
                inner: e);
        }

        return FlowithClient.Translate(e, "mid-stream", _clientToken, _drainExpired);
    }

    public ValueTask DisposeAsync()
    {
        _response.Dispose();
        _timeout.Dispose();
        return ValueTask.CompletedTask;
    }
}
