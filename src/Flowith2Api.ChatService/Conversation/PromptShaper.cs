namespace Flowith2Api.ChatService.Conversation;

/// <summary>
/// The server's own prompts: <c>SYSTEM_PROMPT</c> prepended to the client's system prompt (or replacing it with
/// <c>ENABLE_SYSTEM_PROMPT_OVERRIDE</c>), and the thinking prompt when the client asked for reasoning and
/// <c>ENABLE_THINKING_INJECTION</c> is on, and the output-format instruction of a structured-output request.
/// </summary>
public static class PromptShaper
{
    public static IReadOnlyList<ConversationMessage> Apply(ConversationRequest request, ChatOptions options)
    {
        var messages = request.Messages;
        var injectThinking = request.WantsReasoning && options.EnableThinkingInjection && !string.IsNullOrWhiteSpace(options.ThinkingPrompt);
        if (string.IsNullOrWhiteSpace(options.SystemPrompt) && !injectThinking && request.Format.Instruction is null && !request.ToolsActive)
        {
            return messages;
        }

        var result = new List<ConversationMessage>(messages.Count + 2);
        if (!string.IsNullOrWhiteSpace(options.SystemPrompt))
        {
            result.Add(new ConversationMessage(ConversationRole.System, options.SystemPrompt));
        }

        foreach (var message in messages)
        {
            if (options.EnableSystemPromptOverride && message.Role == ConversationRole.System && !string.IsNullOrWhiteSpace(options.SystemPrompt))
            {
                continue;
            }

            result.Add(message);
        }

        var lastSystem = result.FindLastIndex(m => m.Role == ConversationRole.System);
        if (request.ToolsActive)
        {
            result.Insert(++lastSystem, new ConversationMessage(ConversationRole.System, [ToolInstructionsPart.Instance]));
        }

        if (request.Format.Instruction is { } format)
        {
            result.Insert(++lastSystem, new ConversationMessage(ConversationRole.System, format));
        }

        if (injectThinking)
        {
            result.Insert(lastSystem + 1, new ConversationMessage(ConversationRole.System, options.ThinkingPrompt));
        }

        return result;
    }
}
