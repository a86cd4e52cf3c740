using System.Text.Json;
using System.Text.RegularExpressions;
using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>file_search: files found by name with a glob, below a workspace directory.</summary>
public sealed class FileSearchTool : WorkspaceTool
{
    public const int MaxMatches = 500;

    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "pattern": { "type": "string", "description": "A glob. Without '/' it matches file names at any depth (*.cs); with '/' it matches paths below 'path' (src/**/*.txt)." },
            "path": { "type": "string", "description": "Directory to search, relative to the workspace. Default: the workspace root." }
          },
          "required": ["pattern"],
          "additionalProperties": false
        }
        """);

    public override string Name => "file_search";

    public override string Description =>
        $"Finds files in the workspace by name with a glob such as *.cs or **/*.txt (at most {MaxMatches} results; .git is skipped).";

    public override JsonElement InputSchema => Schema;

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var pattern = ArgumentReader.RequiredText(arguments, "pattern");
        using var workspace = WorkspaceDirectory.Open(context);
        var path = workspace.Resolve(ArgumentReader.OptionalText(arguments, "path"));
        FileText.RequireDirectory(path);
        var byPath = pattern.Contains('/', StringComparison.Ordinal);
        var regex = Glob.ToRegex(byPath && pattern.StartsWith("./", StringComparison.Ordinal) ? pattern[2..] : pattern);
        var prefix = path.IsRoot ? "" : path.RelativePath + "/";

        var matches = new List<string>();
        var truncated = false;
        try
        {
            foreach (var entry in workspace.Walk(path, recursive: true, name => name == ".git"))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (entry.Status.Kind != FileKind.File)
                {
                    continue;
                }

                var candidate = byPath ? entry.RelativePath[prefix.Length..] : entry.Name;
                if (!regex.IsMatch(candidate))
                {
                    continue;
                }

                if (matches.Count == MaxMatches)
                {
                    truncated = true;
                    break;
                }

                matches.Add(entry.RelativePath);
            }
        }
        catch (RegexMatchTimeoutException)
        {
            return Task.FromResult(ToolResult.Error("The pattern is too complex to match in time; use a simpler glob."));
        }

        return Task.FromResult(ToolResult.Json(new FileSearchResult(pattern, matches, truncated), CliJsonContext.Default.FileSearchResult));
    }
}
