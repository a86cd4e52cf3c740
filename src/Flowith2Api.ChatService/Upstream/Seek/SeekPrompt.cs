using System.Text;

namespace Flowith2Api.ChatService.Upstream.Seek;

/// <summary>
/// A conversation as the seek API takes it: one string a message. Tool calls and results are written in the one
/// textual format the model is asked to use (<see cref="ToolCallFormat"/>), attachments as placeholders
/// (<c>[image]</c>), and the tool instructions where the prompt shaper placed them; parts are joined by a line break.
/// </summary>
public static class SeekPrompt
{
    /// <summary>The messages as they are sent.</summary>
    public static IEnumerable<(ConversationRole Role, string Text)> Messages(ConversationRequest request) =>
        request.Messages.Select(message => (message.Role, Render(message.Parts, request)));

    /// <summary>One message's text (without a request, tool instructions render as nothing).</summary>
    public static string Render(ConversationMessage message, ConversationRequest? request = null) => Render(message.Parts, request);

    private static string Render(IReadOnlyList<ContentPart> parts, ConversationRequest? request)
    {
        if (parts is [TextPart only])
        {
            return only.Text;
        }

        var text = new StringBuilder();
        foreach (var part in parts)
        {
            var piece = part switch
            {
                TextPart t => t.Text,
                AttachmentPart a => $"[{a.Kind}]",
                ToolCallPart call => ToolCallFormat.RenderCall(call.Name, call.ArgumentsJson),
                ToolResultPart result => ToolCallFormat.RenderResult(result.Name, result.CallId, Render(result.Content, request), result.IsError),
                ToolInstructionsPart when request is { ToolsActive: true } => ToolCallFormat.Prompt(request.Tools, request.ToolChoice, request.ParallelToolCalls),
                _ => "",
            };
            if (piece.Length == 0)
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(piece);
        }

        return text.ToString();
    }
}
