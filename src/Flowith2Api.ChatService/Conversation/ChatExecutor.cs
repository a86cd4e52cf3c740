using System.Diagnostics;
using Flowith2Api.ChatService.Credentials;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>
/// Runs one conversation request against the upstream with failover: each attempt takes the next usable credential;
/// a rejected or rate-limited credential is reported to the pool and the request moves on to another at once;
/// 5xx, network failures and empty answers are retried (<c>UPSTREAM_RETRY_MAX</c>) after a backoff with jitter;
/// timeouts only when <c>NO_RETRY_ON_TIMEOUT</c> is off. Streams are buffered at the start (up to
/// <c>SSE_MIN_CONTENT_LENGTH</c> characters, or their normal end) so a failed or empty start is retried invisibly.
/// </summary>
public sealed partial class ChatExecutor(FlowithClient flowith, ICredentialPool pool, IOptionsMonitor<ChatOptions> options, ILogger<ChatExecutor> logger)
{
    public Task<string> CompleteAsync(ConversationRequest request, ChatCall call, CancellationToken cancellationToken) =>
        RunAsync(request, call, async lease =>
        {
            var text = await call.TimeUpstream(flowith.CompleteAsync(request, lease.Credential.Value, call.RequestId, cancellationToken));
            return text.Length > 0 ? text : throw new UpstreamException(UpstreamFailureKind.Empty, "The upstream answered without any content.");
        }, cancellationToken);

    public Task<StartedAnswer> StartStreamAsync(ConversationRequest request, ChatCall call, CancellationToken cancellationToken) =>
        RunAsync(request, call, async lease =>
        {
            var answer = await call.TimeUpstream(flowith.StreamAsync(request, lease.Credential.Value, call.RequestId, cancellationToken));
            var pieces = answer.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                var prefix = new List<string>();
                var length = 0;
                var ended = false;
                var wanted = Math.Max(1, options.CurrentValue.MinContentLength);
                while (length < wanted)
                {
                    if (!await call.TimeUpstream(pieces.MoveNextAsync()))
                    {
                        ended = true;
                        break;
                    }

                    prefix.Add(pieces.Current);
                    length += pieces.Current.Length;
                }

                if (length == 0)
                {
                    throw new UpstreamException(UpstreamFailureKind.Empty, "The upstream stream ended without any content.");
                }

                return new StartedAnswer(answer, pieces, prefix, ended, call);
            }
            catch
            {
                await pieces.DisposeAsync();
                await answer.DisposeAsync();
                throw;
            }
        }, cancellationToken);

    private async Task<T> RunAsync<T>(ConversationRequest request, ChatCall call, Func<CredentialLease, Task<T>> attempt, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        HashSet<string>? excluded = null;
        UpstreamException? last = null;
        var retries = 0;
        for (var number = 1; ; number++)
        {
            var lease = await pool.NextAsync(excluded)
                ?? throw await NoCredentialLeftAsync(last);

            call.Attempts = number;
            call.CredentialMasked = lease.Credential.Masked;
            using var activity = StartAttempt(lease, request, number, call.RequestId);
            try
            {
                var result = await attempt(lease);
                activity?.SetTag("flowith2api.outcome", "success");
                ChatTelemetry.RecordAttempt(number, "success", lease.Credential.Id);
                await pool.ReportSuccessAsync(lease);
                return result;
            }
            catch (UpstreamException e)
            {
                activity?.SetTag("flowith2api.outcome", e.Kind.ToString());
                activity?.SetTag("error.type", e.Kind.ToString());
                activity?.SetStatus(ActivityStatusCode.Error, e.Kind.ToString());
                ChatTelemetry.RecordAttempt(number, e.Kind.ToString(), lease.Credential.Id);
                LogAttemptFailed(logger, number, lease.Credential.Masked, e.Kind, e.Message);
                await pool.ReportFailureAsync(lease, e);
                last = e;
                switch (e.Kind)
                {
                    case UpstreamFailureKind.CredentialRejected or UpstreamFailureKind.RateLimited:
                        // The credential's fault, not the request's: move on at once (bounded by the pool's size).
                        (excluded ??= []).Add(lease.Credential.Id);
                        continue;
                    case UpstreamFailureKind.RequestRejected or UpstreamFailureKind.ShuttingDown:
                    case UpstreamFailureKind.Timeout when settings.NoRetryOnTimeout:
                    case UpstreamFailureKind.Empty when !settings.RetryOnEmpty:
                        throw;
                }

                if (++retries > settings.RetryMax)
                {
                    throw;
                }

                await Task.Delay(CredentialPool.Backoff(TimeSpan.FromMilliseconds(settings.RetryBackoffMs), retries, TimeSpan.FromSeconds(10)), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                activity?.SetTag("flowith2api.outcome", "client_cancelled");
                throw;
            }
        }
    }

    /// <summary>No usable credential: none configured, or every one disabled, cooling or already failed for this request.</summary>
    private async Task<UpstreamException> NoCredentialLeftAsync(UpstreamException? last)
    {
        if (pool.Count == 0)
        {
            return new UpstreamException(UpstreamFailureKind.NoCredentials,
                "No upstream credentials configured: set FLOWITH_AUTH_TOKENS or add one with POST /v1/admin/tokens.");
        }

        if (last is not null && last.Kind is not (UpstreamFailureKind.CredentialRejected or UpstreamFailureKind.RateLimited))
        {
            return last;
        }

        var statuses = await pool.StatusesAsync();
        var disabled = statuses.Count(s => s.State == CredentialState.Disabled);
        var cooling = statuses.Where(s => s.State == CredentialState.Cooling && s.Until is not null).Select(s => s.Until!.Value).ToList();
        TimeSpan? retryAfter = cooling.Count > 0 ? cooling.Min() - DateTimeOffset.UtcNow : last?.RetryAfter;
        if (retryAfter < TimeSpan.Zero)
        {
            retryAfter = TimeSpan.Zero;
        }

        return new UpstreamException(UpstreamFailureKind.CredentialsExhausted,
            $"Every upstream credential is unusable right now ({disabled} disabled, {cooling.Count} cooling down, {statuses.Count} in all)."
            + (last is null ? "" : $" Last failure: {last.Message}"),
            last?.Status, retryAfter);
    }

    private static Activity? StartAttempt(CredentialLease lease, ConversationRequest request, int number, string requestId)
    {
        var activity = Telemetry.ActivitySource.StartActivity("flowith.seek attempt");
        if (activity is not null)
        {
            activity.SetTag("gen_ai.system", ChatTelemetry.ProviderName);
            activity.SetTag("gen_ai.provider.name", ChatTelemetry.ProviderName);
            activity.SetTag("gen_ai.operation.name", "chat");
            activity.SetTag("gen_ai.request.model", request.UpstreamModel ?? request.PublicModel);
            activity.SetTag("flowith2api.credential", lease.Credential.Masked);
            activity.SetTag("flowith2api.credential_id", lease.Credential.Id);
            activity.SetTag("flowith2api.attempt", number);
            activity.SetTag("flowith2api.stream", request.Stream);
            activity.SetTag(Telemetry.RequestIdTag, requestId);
        }

        return activity;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream attempt {Attempt} with credential {Credential} failed ({Kind}): {Message}")]
    private static partial void LogAttemptFailed(ILogger logger, int attempt, string credential, UpstreamFailureKind kind, string message);
}

/// <summary>
/// A stream whose start has been read and accepted: the buffered <see cref="Prefix"/>, then the rest as it arrives.
/// </summary>
public sealed class StartedAnswer(FlowithAnswer answer, IAsyncEnumerator<string> pieces, IReadOnlyList<string> prefix, bool ended, ChatCall call)
    : IAsyncDisposable
{
    public IReadOnlyList<string> Prefix { get; } = prefix;

    /// <summary>The prefix, then every later piece; throws <see cref="UpstreamException"/> when the stream breaks.</summary>
    public async IAsyncEnumerable<string> ReadAllAsync()
    {
        foreach (var piece in Prefix)
        {
            yield return piece;
        }

        if (ended)
        {
            yield break;
        }

        while (await call.TimeUpstream(pieces.MoveNextAsync()))
        {
            yield return pieces.Current;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await pieces.DisposeAsync();
        await answer.DisposeAsync();
    }
}
