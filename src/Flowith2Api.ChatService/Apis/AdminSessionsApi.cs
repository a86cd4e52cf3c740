using System.Text.Json.Serialization;
using Flowith2Api.ChatService.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Apis;

/// <summary>One stored turn of a session.</summary>
public sealed record SessionTurnAnswer([property: JsonPropertyName("role")] string Role, [property: JsonPropertyName("content")] string Content);

/// <summary>A session as the admin API shows it; its knowledge bases and turns only when asked for by id.</summary>
public sealed record SessionAnswer(
    [property: JsonPropertyName("session_id")] string SessionId,
    [property: JsonPropertyName("owner_key_id")] string? OwnerKeyId,
    [property: JsonPropertyName("created")] DateTimeOffset Created,
    [property: JsonPropertyName("last_used")] DateTimeOffset LastUsed,
    [property: JsonPropertyName("message_count")] int MessageCount,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("kb_list"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? KbList,
    [property: JsonPropertyName("turns"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<SessionTurnAnswer>? Turns);

public sealed record SessionListAnswer(
    [property: JsonPropertyName("object")] string Kind,
    [property: JsonPropertyName("data")] IReadOnlyList<SessionAnswer> Data,
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("offset")] int Offset,
    [property: JsonPropertyName("limit")] int Limit,
    [property: JsonPropertyName("has_more")] bool HasMore);

public sealed record SessionDeletedAnswer([property: JsonPropertyName("session_id")] string SessionId, [property: JsonPropertyName("deleted")] bool Deleted);

[JsonSerializable(typeof(SessionAnswer))]
[JsonSerializable(typeof(SessionListAnswer))]
[JsonSerializable(typeof(SessionDeletedAnswer))]
public sealed partial class AdminSessionsJsonContext : JsonSerializerContext;

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

    public static async Task<Results<Ok<SessionAnswer>, Ok<SessionListAnswer>, ProblemHttpResult>> GetAsync(ISessionStore store,
        IOptionsMonitor<LongContextOptions> options, [FromQuery(Name = "session_id")] string? sessionId, int? limit, int? offset)
    {
        if (!string.IsNullOrEmpty(sessionId))
        {
            var session = await store.GetAsync(sessionId);
            return session is null ? NotFound(sessionId) : TypedResults.Ok(Answer(sessionId, session, withTurns: true));
        }

        var take = Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit);
        var skip = Math.Max(0, offset ?? 0);
        var (ids, total) = await store.ListAsync(skip, take, options.CurrentValue.Ttl);
        var sessions = new List<SessionAnswer>(ids.Count);
        foreach (var id in ids)
        {
            if (await store.GetAsync(id) is { } session)
            {
                sessions.Add(Answer(id, session, withTurns: false));
            }
        }

        return TypedResults.Ok(new SessionListAnswer("list", sessions, total, skip, take, skip + ids.Count < total));
    }

    public static async Task<Results<Ok<SessionDeletedAnswer>, ProblemHttpResult>> DeleteAsync(ISessionStore store,
        [FromQuery(Name = "session_id")] string? sessionId)
    {
        if (string.IsNullOrEmpty(sessionId))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: "The 'session_id' query parameter is required.");
        }

        return await store.DeleteAsync(sessionId) ? TypedResults.Ok(new SessionDeletedAnswer(sessionId, true)) : NotFound(sessionId);
    }

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: $"Session '{id}' was not found (it may have expired).");

    private static SessionAnswer Answer(string id, VersionedSession session, bool withTurns)
    {
        var data = session.Data;
        return new SessionAnswer(id, data.Owner, DateTimeOffset.FromUnixTimeMilliseconds(data.CreatedUnixMs),
            DateTimeOffset.FromUnixTimeMilliseconds(data.LastUsedUnixMs), data.Turns.Count, session.SizeBytes, session.Version,
            withTurns ? [.. data.KnowledgeBases] : null,
            withTurns ? [.. data.Turns.Select(t => new SessionTurnAnswer(t.Role, t.Content))] : null);
    }
}
