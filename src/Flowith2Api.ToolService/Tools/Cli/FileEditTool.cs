using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>file_edit: replaces an exact piece of text in a file, once (it must be unique) or everywhere.</summary>
public sealed class FileEditTool(IOptions<ToolOptions> options) : WorkspaceTool
{
    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "description": "File path relative to the workspace." },
            "old_string": { "type": "string", "description": "The exact text to replace, including whitespace and line breaks." },
            "new_string": { "type": "string", "description": "The replacement text." },
            "replace_all": { "type": "boolean", "description": "Replace every occurrence; otherwise old_string must occur exactly once. Default false." }
          },
          "required": ["path", "old_string", "new_string"],
          "additionalProperties": false
        }
        """);

    public override string Name => "file_edit";

    public override string Description =>
        "Replaces exact text in a workspace file. old_string must occur exactly once unless replace_all is true.";

    public override JsonElement InputSchema => Schema;

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken) =>
        Task.FromResult(Edit(arguments, context));

    private ToolResult Edit(JsonElement arguments, ToolContext context)
    {
        using var workspace = WorkspaceDirectory.Open(context);
        var path = workspace.Resolve(ArgumentReader.RequiredText(arguments, "path"));
        var oldString = ArgumentReader.RequiredText(arguments, "old_string");
        var newString = ArgumentReader.RequiredText(arguments, "new_string", allowEmpty: true);
        var replaceAll = ArgumentReader.OptionalFlag(arguments, "replace_all");
        FileText.RequireFile(path);
        var settings = options.Value;
        if (oldString == newString)
        {
            return ToolResult.Error("old_string and new_string are the same; nothing to change.");
        }

        byte[]? original;
        using (var file = workspace.OpenFile(path))
        {
            if (file.Status.Size > settings.MaxReadBytes)
            {
                return ToolResult.Error($"{path.Display} is {FileText.Bytes(file.Status.Size)}, over the read limit of {FileText.Bytes(settings.MaxReadBytes)}, so it cannot be edited.");
            }

            original = file.ReadAll(settings.MaxReadBytes);
            if (original is null)
            {
                return ToolResult.Error($"{path.Display} grew over the read limit of {FileText.Bytes(settings.MaxReadBytes)} while being read.");
            }
        }

        if (FileText.LooksBinary(original))
        {
            return ToolResult.Error($"{path.Display} looks like a binary file (it contains NUL bytes) and cannot be edited as text.");
        }

        var (bom, text) = FileText.Decode(original);
        var count = Occurrences(text, oldString);
        if (count == 0)
        {
            return ToolResult.Error($"old_string was not found in {path.Display}. It must match the file exactly, including whitespace and line breaks.");
        }

        if (count > 1 && !replaceAll)
        {
            return ToolResult.Error($"old_string occurs {count} times in {path.Display}. Include more surrounding text to make it unique, or set replace_all to true.");
        }

        var updated = FileText.Encode(bom, replaceAll
            ? text.Replace(oldString, newString, StringComparison.Ordinal)
            : ReplaceFirst(text, oldString, newString));
        if (updated.Length > settings.MaxWriteBytes)
        {
            return ToolResult.Error($"The edited file would be {FileText.Bytes(updated.Length)}, over the write limit of {FileText.Bytes(settings.MaxWriteBytes)}.");
        }

        workspace.WriteFile(path, updated);
        return ToolResult.Ok($"Replaced {(count == 1 ? "1 occurrence" : $"{count} occurrences")} in {path.Display}.");
    }

    private static int Occurrences(string text, string value)
    {
        var count = 0;
        for (var index = text.IndexOf(value, StringComparison.Ordinal); index >= 0; index = text.IndexOf(value, index + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string ReplaceFirst(string text, string oldString, string newString)
    {
        var index = text.IndexOf(oldString, StringComparison.Ordinal);
        return string.Concat(text.AsSpan(0, index), newString, text.AsSpan(index + oldString.Length));
    }
}
