namespace Flowith2Api.ChatService.Conversation;

/// <summary>Roles of the internal conversation model, shared by every dialect.</summary>
public enum ConversationRole
{
    System,
    User,
    Assistant,
    Tool,
}

/// <summary>One message of a conversation with its content flattened to text (the seek API takes strings).</summary>
public sealed record ConversationMessage(ConversationRole Role, string Text);

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

    /// <summary>An output-format instruction for the upstream (OpenAI <c>response_format</c>), or null.</summary>
    public string? FormatInstruction { get; init; }

    /// <summary>The client asked for reasoning (OpenAI <c>reasoning_effort</c>, Anthropic <c>thinking</c>).</summary>
    public bool WantsReasoning { get; init; }
}

/// <summary>Token counts of one exchange.</summary>
public readonly record struct Usage(int InputTokens, int OutputTokens, int ReasoningTokens = 0)
{
    public int TotalTokens => InputTokens + OutputTokens;
}
