namespace Flowith2Api.ChatService.Sessions;

/// <summary>What the client is told when a session cannot be used (each dialect writes it in its own envelope).</summary>
public static class SessionErrors
{
    public static (int Status, string Code, string Message)? Describe(SessionOutcome outcome, string? id) => outcome switch
    {
        SessionOutcome.NotFound => (StatusCodes.Status404NotFound, "session_not_found",
            $"Session '{id}' was not found: it expired, was deleted, or belongs to another API key."),
        SessionOutcome.InvalidId => (StatusCodes.Status400BadRequest, "invalid_session_id",
            "'session_id' must be 1 to 128 characters of letters, digits, '-', '_', '.' or ':'."),
        SessionOutcome.Unavailable => (StatusCodes.Status503ServiceUnavailable, "session_store_unavailable",
            "The session store is unavailable right now; retry shortly."),
        _ => null,
    };
}
