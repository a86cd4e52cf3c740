namespace Flowith2Api.ChatService.Conversation;

/// <summary>Roles of the internal conversation model, shared by every dialect.</summary>
public enum ConversationRole
{
    System,
    User,
    Assistant,
    Tool,
}

/// <summary>A client tool: its name, description and JSON schema for the arguments.</summary>
public sealed record ToolDefinition(string Name, string? Description, System.Text.Json.JsonElement? Schema);

public enum ToolChoiceMode
{
    Auto,
    Required,
    None,
    Specific,
}

/// <summary>Whether and which tool the model must call.</summary>
public sealed record ToolChoice(ToolChoiceMode Mode, string? Name = null)
{
    public static ToolChoice Auto { get; } = new(ToolChoiceMode.Auto);
}

/// <summary>
/// One message of a conversation, its content as typed parts (text, attachments, tool calls and results): how an
/// upstream wants them (the seek API takes one string a message) is its adapter's business.
/// </summary>
public sealed record ConversationMessage(ConversationRole Role, IReadOnlyList<ContentPart> Parts)
{
    public ConversationMessage(ConversationRole role, string text)
        : this(role, [new TextPart(text)])
    {
    }

    /// <summary>Messages are equal when their role and their parts, in order, are.</summary>
    public bool Equals(ConversationMessage? other) => other is not null && Role == other.Role && Parts.SequenceEqual(other.Parts);

    public override int GetHashCode() => HashCode.Combine(Role, Parts.Count);
}

/// <summary>A tool call of the model's (parsed from the upstream's answer, or sent back by a client in its history).</summary>
public sealed record ToolCall(int Index, string Id, string Name, string ArgumentsJson);

/// <summary>What a dialect asks of the upstream, independent of the dialect it came in.</summary>
public sealed record ConversationRequest
{
    public required IReadOnlyList<ConversationMessage> Messages { get; init; }

    /// <summary>The model name the client asked for (echoed back in answers).</summary>
    public required string PublicModel { get; init; }

    /// <summary>The upstream model id, or null for the upstream's default.</summary>
    public string? UpstreamModel { get; init; }

    public bool Stream { get; init; }

    public int? MaxTokens { get; init; }

    public double? Temperature { get; init; }

    public double? TopP { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>The upstream's knowledge-base list: a session keeps one for its whole life; null makes a new one.</summary>
    public IReadOnlyList<string>? KnowledgeBases { get; init; }

    /// <summary>Client tools the model may call (emulated in the prompt: the upstream has no function calling).</summary>
    public IReadOnlyList<ToolDefinition> Tools { get; init; } = [];

    public ToolChoice ToolChoice { get; init; } = ToolChoice.Auto;

    /// <summary>False: at most one tool call per answer.</summary>
    public bool ParallelToolCalls { get; init; } = true;

    /// <summary>
    /// Server tools the client asked for by name in its own dialect (a hosted tool: Responses <c>web_search</c>,
    /// Anthropic <c>web_search_…</c> or <c>code_execution_…</c>, Chat Completions <c>web_search_options</c>): offered to
    /// the model even when <c>MCP_TOOLS</c> names none.
    /// </summary>
    public IReadOnlySet<string> RequestedServerTools { get; init; } = ServerToolNames.None;

    /// <summary>True when tools are offered and the client did not forbid calling them.</summary>
    public bool ToolsActive => Tools.Count > 0 && ToolChoice.Mode != ToolChoiceMode.None;

    /// <summary>The form the answer must take: free text (the default) or JSON (an object, or matching a schema).</summary>
    public OutputFormat Format { get; init; } = OutputFormat.Text;

    /// <summary>The client asked for reasoning (OpenAI <c>reasoning_effort</c>, Anthropic <c>thinking</c>).</summary>
    public bool WantsReasoning { get; init; }
}

/// <summary>Token counts of one exchange.</summary>
public readonly record struct Usage(int InputTokens, int OutputTokens, int ReasoningTokens = 0)
{
    public int TotalTokens => InputTokens + OutputTokens;
}
