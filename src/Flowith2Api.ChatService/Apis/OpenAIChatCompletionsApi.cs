using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Flowith2Api.ChatService.Models;
using Flowith2Api.ChatService.Upstream;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Apis;

/// <summary><c>POST /v1/chat/completions</c>: the OpenAI dialect on the Flowith upstream.</summary>
public static partial class OpenAIChatCompletionsApi
{
    public static IEndpointRouteBuilder MapOpenAIChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CreateChatCompletionAsync);
        return app;
    }

    public static async Task CreateChatCompletionAsync(HttpContext context, ChatExecutor executor, ModelCatalog catalog,
        TokenCounter tokens, IOptions<ChatOptions> options, ILogger<ChatExecutor> logger)
    {
        var aborted = context.RequestAborted;
        var call = new ChatCall(context.TraceIdentifier);
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

        var settings = options.Value;
        var error = OpenAIRequestMapper.TryMap(body, settings.DefaultModel, out var request);
        if (error is not null)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest, error.Message, "invalid_request_error", error.Code, error.Param);
            return;
        }

        var model = await catalog.ResolveAsync(request.PublicModel, aborted);
        if (model is null)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status404NotFound, ModelsApi.NotFoundMessage(request.PublicModel),
                "invalid_request_error", "model_not_found", "model");
            return;
        }

        request = request with
        {
            UpstreamModel = model.UpstreamId,
            Messages = PromptShaper.Apply(request, settings),
        };
        Activity.Current?.SetTag("gen_ai.request.model", request.PublicModel);

        try
        {
            if (request.Stream)
            {
                await StreamAsync(context, executor, tokens, settings, request, call, body.StreamOptions?.IncludeUsage == true);
            }
            else
            {
                await CompleteAsync(context, executor, tokens, settings, request, call);
            }
        }
        catch (UpstreamException e)
        {
            LogFailed(logger, e.Kind, e.Message);
            call.WriteTimingHeaders(context.Response);
            await WriteUpstreamErrorAsync(context, e);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; the upstream call was cancelled with it.
        }
    }

    private static async Task CompleteAsync(HttpContext context, ChatExecutor executor, TokenCounter tokens, ChatOptions settings,
        ConversationRequest request, ChatCall call)
    {
        var text = await executor.CompleteAsync(request, call, context.RequestAborted);
        var (reasoning, content) = ThinkSplitter.SplitWhole(text, settings.EnableThinkingTags);
        content = StopSequenceFilter.Truncate(content, request.Stop);
        var usage = CountUsage(tokens, request, reasoning, content);
        call.WriteTimingHeaders(context.Response);
        await OpenAIResponseWriter.WriteCompletionAsync(context.Response, OpenAIResponseWriter.NewCompletionId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            request.PublicModel, content, reasoning, FinishReason(request, usage), usage, context.RequestAborted);
    }

    private static async Task StreamAsync(HttpContext context, ChatExecutor executor, TokenCounter tokens, ChatOptions settings,
        ConversationRequest request, ChatCall call, bool includeUsage)
    {
        var aborted = context.RequestAborted;
        await using var stream = await executor.StartStreamAsync(request, call, aborted);

        OpenAIStreamWriter.PrepareHeaders(context.Response);
        call.WriteTimingHeaders(context.Response);
        using var writer = new OpenAIStreamWriter(context.Response, OpenAIResponseWriter.NewCompletionId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), request.PublicModel);
        await writer.WriteRoleAsync(aborted);

        var splitter = new ThinkSplitter(settings.EnableThinkingTags);
        var stops = new StopSequenceFilter(request.Stop);
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        try
        {
            await foreach (var piece in stream.ReadAllAsync())
            {
                await WritePiecesAsync(writer, splitter.Push(piece), stops, reasoning, content, aborted);
                if (stops.Stopped)
                {
                    break; // disposing the stream below cancels the upstream call
                }
            }
        }
        catch (UpstreamException e)
        {
            await writer.WriteErrorAsync($"The upstream stream failed: {e.Message}", "server_error",
                e.Kind == UpstreamFailureKind.Timeout ? "upstream_timeout" : "upstream_stream_failed", aborted);
            return;
        }

        await WritePiecesAsync(writer, [.. splitter.Flush(), new AnswerPiece(false, "")], stops, reasoning, content, aborted, final: true);
        var usage = CountUsage(tokens, request, reasoning.ToString(), content.ToString());
        await writer.WriteFinishAsync(FinishReason(request, usage), aborted);
        if (includeUsage)
        {
            await writer.WriteUsageAsync(usage, aborted);
        }

        await writer.WriteDoneAsync(aborted);
    }

    private static async Task WritePiecesAsync(OpenAIStreamWriter writer, IReadOnlyList<AnswerPiece> pieces, StopSequenceFilter stops,
        StringBuilder reasoning, StringBuilder content, CancellationToken cancellationToken, bool final = false)
    {
        foreach (var piece in pieces)
        {
            if (piece.IsReasoning)
            {
                reasoning.Append(piece.Text);
                await writer.WriteReasoningAsync(piece.Text, cancellationToken);
                continue;
            }

            var text = stops.Push(piece.Text);
            if (final)
            {
                text += stops.Flush();
            }

            if (text.Length > 0)
            {
                content.Append(text);
                await writer.WriteContentAsync(text, cancellationToken);
            }
        }
    }

    private static Usage CountUsage(TokenCounter tokens, ConversationRequest request, string reasoning, string content)
    {
        var reasoningTokens = tokens.CountText(reasoning);
        return new Usage(tokens.CountPrompt(request.Messages), reasoningTokens + tokens.CountText(content), reasoningTokens);
    }

    /// <summary>"length" when the answer used the whole <c>max_tokens</c> budget, else "stop".</summary>
    private static string FinishReason(ConversationRequest request, Usage usage) =>
        request.MaxTokens is { } max && usage.OutputTokens >= max ? "length" : "stop";

    private static Task WriteUpstreamErrorAsync(HttpContext context, UpstreamException e)
    {
        var (status, type, code) = UpstreamErrors.Classify(e);
        if (e.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return OpenAIErrors.WriteAsync(context, status, e.Message, type, code);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat completion failed ({Kind}): {Message}")]
    private static partial void LogFailed(ILogger logger, UpstreamFailureKind kind, string message);
}
