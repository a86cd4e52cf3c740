using System.Text;

namespace Flowith2Api.ChatService.Upstream.Seek;

/// <summary>
/// The one textual tool-call format the upstream is asked to use (from the original project), how tools are described
/// in the prompt, and how earlier calls and their results are written back into the conversation.
/// </summary>
public static class ToolCallFormat
{
    public const string OpenTag = "<tool_call";
    public const string CloseTag = "</tool_call>";

    public static string RenderCall(string name, string argumentsJson) =>
        $"<tool_call name=\"{name}\">{argumentsJson}</tool_call>";

    public static string RenderResult(string? name, string? id, string content, bool isError)
    {
        var builder = new StringBuilder("<tool_result");
        if (!string.IsNullOrEmpty(name))
        {
            builder.Append(" name=\"").Append(name).Append('"');
        }

        if (!string.IsNullOrEmpty(id))
        {
            builder.Append(" id=\"").Append(id).Append('"');
        }

        if (isError)
        {
            builder.Append(" is_error=\"true\"");
        }

        return builder.Append(">\n").Append(content).Append("\n</tool_result>").ToString();
    }

    /// <summary>The system instruction that offers the tools and fixes the call format.</summary>
    public static string Prompt(IReadOnlyList<ToolDefinition> tools, ToolChoice choice, bool parallel)
    {
        var prompt = new StringBuilder();
        prompt.AppendLine("You can call tools. To call a tool, write exactly this, with the arguments as one JSON object that matches the tool's input schema:");
        prompt.AppendLine("<tool_call name=\"TOOL_NAME\">{\"argument\": \"value\"}</tool_call>");
        prompt.AppendLine(parallel
            ? "You may call several tools by writing several <tool_call> elements one after another."
            : "Call at most one tool in an answer.");
        prompt.AppendLine("After your tool calls, stop writing: the results will come back to you in <tool_result> elements. Never write a <tool_result> yourself.");
        prompt.AppendLine(choice.Mode switch
        {
            ToolChoiceMode.Required => "You must call at least one tool in this answer.",
            ToolChoiceMode.Specific => $"You must call the tool \"{choice.Name}\" in this answer.",
            _ => "Call a tool only when it helps; otherwise answer normally, without any <tool_call>.",
        });
        prompt.AppendLine();
        prompt.AppendLine("Available tools:");
        foreach (var tool in tools)
        {
            prompt.Append("- ").Append(tool.Name);
            if (!string.IsNullOrWhiteSpace(tool.Description))
            {
                prompt.Append(": ").Append(tool.Description.Trim());
            }

            prompt.AppendLine();
            prompt.Append("  input schema: ").AppendLine(tool.Schema is { } schema ? JsonSerializer.Serialize(schema, ToolJsonContext.Default.JsonElement) : "{}");
        }

        return prompt.ToString().TrimEnd();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class ToolJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
