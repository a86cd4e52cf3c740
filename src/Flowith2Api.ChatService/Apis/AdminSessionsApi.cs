using Flowith2Api.ChatService.Sessions;
using Flowith2Api.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Apis;

/// <summary>
/// <c>/v1/admin/sessions</c>: look into, list and delete sessions (admin key only; the Gateway routes these here because
/// the ChatService owns the session store).
/// </summary>
public static class AdminSessionsApi
{
    private const int DefaultLimit = 20;
    private const int MaxLimit = 100;

    public static IEndpointRouteBuilder MapAdminSessionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/sessions").RequireAdminKey().WithTags("Admin: sessions");
        group.MapGet("", GetAsync);
        group.MapDelete("", DeleteAsync);
        return app;
    }

    public static async Task<IResult> GetAsync(HttpContext context, ISessionStore store, IOptionsMonitor<LongContextOptions> options,
        [FromQuery(Name = "session_id")] string? sessionId, int? limit, int? offset)
    {
        if (!string.IsNullOrEmpty(sessionId))
        {
            var session = await store.GetAsync(sessionId);
            return session is null
                ? NotFound(sessionId)
                : Json(context, json => WriteSession(json, sessionId, session, withTurns: true));
        }

        var take = Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit);
        var skip = Math.Max(0, offset ?? 0);
        var (ids, total) = await store.ListAsync(skip, take, options.CurrentValue.Ttl);
        var sessions = new List<(string Id, VersionedSession Session)>(ids.Count);
        foreach (var id in ids)
        {
            if (await store.GetAsync(id) is { } session)
            {
                sessions.Add((id, session));
            }
        }

        return Json(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            foreach (var (id, session) in sessions)
            {
                WriteSession(json, id, session, withTurns: false);
            }

            json.WriteEndArray();
            json.WriteNumber("total", total);
            json.WriteNumber("offset", skip);
            json.WriteNumber("limit", take);
            json.WriteBoolean("has_more", skip + ids.Count < total);
            json.WriteEndObject();
        });
    }

    public static async Task<IResult> DeleteAsync(HttpContext context, ISessionStore store, [FromQuery(Name = "session_id")] string? sessionId)
    {
        if (string.IsNullOrEmpty(sessionId))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: "The 'session_id' query parameter is required.");
        }

        return await store.DeleteAsync(sessionId)
            ? Json(context, json =>
            {
                json.WriteStartObject();
                json.WriteString("session_id", sessionId);
                json.WriteBoolean("deleted", true);
                json.WriteEndObject();
            })
            : NotFound(sessionId);
    }

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: $"Session '{id}' was not found (it may have expired).");

    private static void WriteSession(Utf8JsonWriter json, string id, VersionedSession session, bool withTurns)
    {
        var data = session.Data;
        json.WriteStartObject();
        json.WriteString("session_id", id);
        json.WriteString("owner_key_id", data.Owner);
        json.WriteString("created", DateTimeOffset.FromUnixTimeMilliseconds(data.CreatedUnixMs));
        json.WriteString("last_used", DateTimeOffset.FromUnixTimeMilliseconds(data.LastUsedUnixMs));
        json.WriteNumber("message_count", data.Turns.Count);
        json.WriteNumber("size_bytes", session.SizeBytes);
        json.WriteNumber("version", session.Version);
        if (withTurns)
        {
            json.WriteStartArray("kb_list");
            foreach (var kb in data.KnowledgeBases)
            {
                json.WriteStringValue(kb);
            }

            json.WriteEndArray();
            json.WriteStartArray("turns");
            foreach (var turn in data.Turns)
            {
                json.WriteStartObject();
                json.WriteString("role", turn.Role);
                json.WriteString("content", turn.Content);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static IResult Json(HttpContext context, Action<Utf8JsonWriter> write) =>
        Results.Extensions.Json(context, write);
}

/// <summary>An <see cref="IResult"/> that writes JSON with a <see cref="Utf8JsonWriter"/>.</summary>
internal static class JsonResultExtensions
{
    public static IResult Json(this IResultExtensions _, HttpContext context, Action<Utf8JsonWriter> write) =>
        new WriterResult(write);

    private sealed class WriterResult(Action<Utf8JsonWriter> write) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => JsonResponse.WriteAsync(httpContext, StatusCodes.Status200OK, write);
    }
}
