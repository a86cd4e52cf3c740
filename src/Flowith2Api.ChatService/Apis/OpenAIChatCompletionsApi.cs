using System.Diagnostics;
using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Credentials;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Flowith2Api.ChatService.Upstream;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.ChatService.Apis;

/// <summary><c>POST /v1/chat/completions</c>: the OpenAI dialect on the Flowith upstream.</summary>
public static partial class OpenAIChatCompletionsApi
{
    public static IEndpointRouteBuilder MapOpenAIChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CreateChatCompletionAsync);
        return app;
    }

    public static async Task CreateChatCompletionAsync(HttpContext context, FlowithClient flowith, CredentialPool pool,
        TokenCounter tokens, IConfiguration configuration, ILogger<OpenAIChatRequest> logger)
    {
        var aborted = context.RequestAborted;
        OpenAIChatRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, OpenAIJsonContext.Default.OpenAIChatRequest, aborted);
        }
        catch (JsonException e)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest,
                $"The request body is not valid JSON for this endpoint (at {e.Path ?? "$"}{(e.LineNumber is { } line ? $", line {line + 1}" : "")}).",
                "invalid_request_error", "invalid_json");
            return;
        }

        if (body is null)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "The request body must be a JSON object.", "invalid_request_error", "invalid_json");
            return;
        }

        var error = OpenAIRequestMapper.TryMap(body, configuration[SeedSettings.DefaultModel], out var request);
        if (error is not null)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest, error.Message, "invalid_request_error", error.Code, error.Param);
            return;
        }

        var credential = pool.Next();
        if (credential is null)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable,
                "No upstream credentials configured: set FLOWITH_AUTH_TOKENS or add one with POST /v1/admin/tokens.",
                "server_error", "no_upstream_credentials");
            return;
        }

        Activity.Current?.SetTag("gen_ai.request.model", request.PublicModel);
        var id = OpenAIResponseWriter.NewCompletionId();
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var attempt = StartAttempt(credential, request);
        try
        {
            if (request.Stream)
            {
                await StreamAsync(context, flowith, tokens, request, credential, id, created, body.StreamOptions?.IncludeUsage == true, attempt);
            }
            else
            {
                var text = await flowith.CompleteAsync(request, credential, context.TraceIdentifier, aborted);
                if (text.Length == 0)
                {
                    throw new UpstreamException(UpstreamFailureKind.Empty, "The upstream answered without any content.");
                }

                var usage = new Usage(tokens.CountPrompt(request.Messages), tokens.CountText(text));
                RecordOutcome(attempt, "success", usage);
                await OpenAIResponseWriter.WriteCompletionAsync(context.Response, id, created, request.PublicModel, text, "stop", usage, aborted);
            }
        }
        catch (UpstreamException e)
        {
            RecordOutcome(attempt, e.Kind.ToString(), usage: null);
            LogUpstreamFailure(logger, e.Kind, e.Message);
            await WriteUpstreamErrorAsync(context, e);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            RecordOutcome(attempt, "client_cancelled", usage: null);
        }
    }

    private static async Task StreamAsync(HttpContext context, FlowithClient flowith, TokenCounter tokens, ConversationRequest request,
        string credential, string id, long created, bool includeUsage, Activity? attempt)
    {
        var aborted = context.RequestAborted;
        await using var upstream = await flowith.StreamAsync(request, credential, context.TraceIdentifier, aborted);
        await using var pieces = upstream.ReadAsync(aborted).GetAsyncEnumerator(aborted);

        // Nothing goes to the client until the first real content arrived: an empty or failed start is still an error
        // the client can see as a status code (and, with the credential pool, a retry it never sees).
        if (!await pieces.MoveNextAsync())
        {
            throw new UpstreamException(UpstreamFailureKind.Empty, "The upstream stream ended without any content.");
        }

        OpenAIStreamWriter.PrepareHeaders(context.Response);
        using var writer = new OpenAIStreamWriter(context.Response, id, created, request.PublicModel);
        var answer = new System.Text.StringBuilder();
        await writer.WriteRoleAsync(aborted);
        try
        {
            var piece = pieces.Current;
            while (true)
            {
                answer.Append(piece);
                await writer.WriteContentAsync(piece, aborted);
                if (!await pieces.MoveNextAsync())
                {
                    break;
                }

                piece = pieces.Current;
            }
        }
        catch (UpstreamException e)
        {
            RecordOutcome(attempt, e.Kind.ToString(), usage: null);
            await writer.WriteErrorAsync($"The upstream stream failed: {e.Message}", "server_error", e.Kind == UpstreamFailureKind.Timeout ? "upstream_timeout" : "upstream_stream_failed", aborted);
            return;
        }

        var usage = new Usage(tokens.CountPrompt(request.Messages), tokens.CountText(answer.ToString()));
        RecordOutcome(attempt, "success", usage);
        await writer.WriteFinishAsync("stop", aborted);
        if (includeUsage)
        {
            await writer.WriteUsageAsync(usage, aborted);
        }

        await writer.WriteDoneAsync(aborted);
    }

    private static Task WriteUpstreamErrorAsync(HttpContext context, UpstreamException e)
    {
        var (status, type, code, message) = e.Kind switch
        {
            UpstreamFailureKind.CredentialRejected => (StatusCodes.Status503ServiceUnavailable, "server_error", "upstream_credentials_exhausted",
                "Every upstream credential was rejected or is cooling down. " + e.Message),
            UpstreamFailureKind.RateLimited => (StatusCodes.Status429TooManyRequests, "rate_limit_error", "upstream_rate_limited",
                "The upstream is rate limiting this gateway. " + e.Message),
            UpstreamFailureKind.Timeout => (StatusCodes.Status504GatewayTimeout, "server_error", "upstream_timeout", e.Message),
            UpstreamFailureKind.Empty => (StatusCodes.Status502BadGateway, "server_error", "upstream_empty_response", e.Message),
            _ => (StatusCodes.Status502BadGateway, "server_error", "upstream_error", e.Message),
        };

        if (e.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return OpenAIErrors.WriteAsync(context, status, message, type, code);
    }

    private static Activity? StartAttempt(string credential, ConversationRequest request)
    {
        var activity = Telemetry.ActivitySource.StartActivity("flowith.seek attempt");
        if (activity is not null)
        {
            activity.SetTag("gen_ai.system", "flowith");
            activity.SetTag("gen_ai.operation.name", "chat");
            activity.SetTag("gen_ai.request.model", request.UpstreamModel ?? request.PublicModel);
            activity.SetTag("flowith2api.credential", SeedSettings.Mask(credential));
            activity.SetTag("flowith2api.attempt", 1);
            activity.SetTag("flowith2api.stream", request.Stream);
        }

        return activity;
    }

    private static void RecordOutcome(Activity? activity, string outcome, Usage? usage)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("flowith2api.outcome", outcome);
        if (usage is { } u)
        {
            activity.SetTag("gen_ai.usage.input_tokens", u.InputTokens);
            activity.SetTag("gen_ai.usage.output_tokens", u.OutputTokens);
        }
        else if (outcome != "client_cancelled")
        {
            activity.SetStatus(ActivityStatusCode.Error, outcome);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream call failed ({Kind}): {Message}")]
    private static partial void LogUpstreamFailure(ILogger logger, UpstreamFailureKind kind, string message);
}
