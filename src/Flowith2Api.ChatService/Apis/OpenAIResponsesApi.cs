using Flowith2Api.ChatService.Dialects;
using Flowith2Api.ChatService.Dialects.Responses;
using Flowith2Api.ChatService.Sessions;

namespace Flowith2Api.ChatService.Apis;

/// <summary>
/// Stored responses of the Responses dialect (<c>store</c>, the default; <c>POST /v1/responses</c> is a turn, in
/// <see cref="ChatTurnsApi"/>): read (<c>GET /v1/responses/{id}</c>, <c>…/input_items</c>) and deleted by the key that
/// made them.
/// </summary>
public static partial class OpenAIResponsesApi
{
    public static IEndpointRouteBuilder MapOpenAIResponsesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/responses/{id}", GetResponseAsync).WithTags("OpenAI Responses").WithSummary("Get a stored response");
        app.MapDelete("/v1/responses/{id}", DeleteResponseAsync).WithTags("OpenAI Responses").WithSummary("Delete a stored response");
        app.MapGet("/v1/responses/{id}/input_items", ListInputItemsAsync).WithTags("OpenAI Responses").WithSummary("List a stored response's input items");
        return app;
    }

    public static async Task GetResponseAsync(HttpContext context, string id, IResponseStore store, ILogger<ChatExecutor> logger)
    {
        var json = await ReadStoredAsync(context, id, StoredResponsePart.Response, store, logger);
        if (json is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(json, context.RequestAborted);
        }
    }

    public static async Task ListInputItemsAsync(HttpContext context, string id, IResponseStore store, ILogger<ChatExecutor> logger)
    {
        var query = context.Request.Query;
        var limit = ResponseInputItems.DefaultLimit;
        if (query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText, out limit) || limit is < 1 or > ResponseInputItems.MaxLimit))
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest,
                $"'limit' must be an integer from 1 to {ResponseInputItems.MaxLimit}.", "invalid_request_error", "invalid_value", "limit");
            return;
        }

        var order = query.TryGetValue("order", out var orderText) ? orderText.ToString() : "desc";
        if (order is not ("asc" or "desc"))
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "'order' must be asc or desc.", "invalid_request_error", "invalid_value", "order");
            return;
        }

        var items = await ReadStoredAsync(context, id, StoredResponsePart.InputItems, store, logger);
        if (items is null)
        {
            return;
        }

        context.Response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            ResponseInputItems.WritePage(json, items, order == "desc", NonEmpty(query["after"]), NonEmpty(query["before"]), limit);
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    public static async Task DeleteResponseAsync(HttpContext context, string id, IResponseStore store, ILogger<ChatExecutor> logger)
    {
        bool deleted;
        try
        {
            deleted = SessionService.IsValidId(id) && await store.DeleteAsync(id, SessionService.OwnerOf(context));
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            LogStoreUnavailable(logger, e.GetType().Name);
            await WriteStoreUnavailableAsync(context);
            return;
        }

        if (!deleted)
        {
            await WriteNotFoundAsync(context, id);
            return;
        }

        context.Response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("object", "response.deleted");
            json.WriteBoolean("deleted", true);
            json.WriteEndObject();
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    /// <summary>One part of a stored response of this key; null once a 404 (or 503) has been written.</summary>
    private static async Task<string?> ReadStoredAsync(HttpContext context, string id, StoredResponsePart part, IResponseStore store, ILogger logger)
    {
        string? json;
        try
        {
            json = SessionService.IsValidId(id) ? await store.GetAsync(id, SessionService.OwnerOf(context), part) : null;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            LogStoreUnavailable(logger, e.GetType().Name);
            await WriteStoreUnavailableAsync(context);
            return null;
        }

        if (json is null)
        {
            await WriteNotFoundAsync(context, id);
        }

        return json;
    }

    private static string? NonEmpty(Microsoft.Extensions.Primitives.StringValues value) => string.IsNullOrEmpty(value) ? null : value.ToString();

    private static Task WriteNotFoundAsync(HttpContext context, string id) =>
        OpenAIErrors.WriteAsync(context, StatusCodes.Status404NotFound,
            $"Response with id '{RequestReading.Truncate(id)}' not found: it expired, was deleted, was created with 'store': false, or belongs to another API key.",
            "invalid_request_error", "response_not_found");

    private static Task WriteStoreUnavailableAsync(HttpContext context) => ResponsesTurn.WriteStoreUnavailableAsync(context);

    private static bool IsStoreFailure(Exception e) => IResponseStore.IsStoreFailure(e);

    private static void LogStoreUnavailable(ILogger logger, string exceptionType) => ResponsesTurn.LogStoreUnavailable(logger, exceptionType);
}
