using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flowith2Api.ToolService.Sandbox;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>search_files: lines of workspace text files containing a string or matching a regular expression.</summary>
public sealed class SearchFilesTool(IOptions<ToolOptions> options) : WorkspaceTool
{
    public const int MaxMatches = 200;
    public const int MaxFiles = 5000;
    public const int MaxLineLength = 300;

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "query": { "type": "string", "description": "Text to find, or a .NET regular expression when regex is true." },
            "path": { "type": "string", "description": "File or directory to search, relative to the workspace. Default: the workspace root." },
            "regex": { "type": "boolean", "description": "Treat query as a regular expression. Default false." },
            "ignore_case": { "type": "boolean", "description": "Match regardless of case. Default false." }
          },
          "required": ["query"],
          "additionalProperties": false
        }
        """);

    public override string Name => "search_files";

    public override string Description =>
        $"Searches the contents of workspace text files; answers 'file:line: text' lines (at most {MaxMatches}; .git, binary and over-large files are skipped).";

    public override JsonElement InputSchema => Schema;

    protected override async Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var query = ArgumentReader.RequiredText(arguments, "query");
        using var workspace = WorkspaceDirectory.Open(context);
        var path = workspace.Resolve(ArgumentReader.OptionalText(arguments, "path"));
        var useRegex = ArgumentReader.OptionalFlag(arguments, "regex");
        var ignoreCase = ArgumentReader.OptionalFlag(arguments, "ignore_case");
        var matcher = CreateMatcher(query, useRegex, ignoreCase);

        IEnumerable<WorkspaceEntry> files = path.Status.Kind switch
        {
            FileKind.Directory => workspace.Walk(path, recursive: true, name => name == ".git"),
            FileKind.File => [new WorkspaceEntry(path.RelativePath, path.Status)],
            FileKind.Missing => throw new ToolArgumentException($"{path.Display} does not exist."),
            _ => throw new ToolArgumentException($"{path.Display} is neither a file nor a directory."),
        };

        var lines = new StringBuilder();
        var matches = 0;
        var scanned = 0;
        var limitNote = "";
        try
        {
            foreach (var file in files)
            {
                if (!file.IsPlainFile || file.Status.Size > options.Value.MaxReadBytes)
                {
                    continue;
                }

                if (++scanned > MaxFiles)
                {
                    limitNote = $"[stopped after searching {MaxFiles} files]";
                    break;
                }

                // What is searched is the file opened here and checked on its descriptor, not what the walk saw.
                using var opened = workspace.TryOpenPlainFile(file.RelativePath, options.Value.MaxReadBytes);
                if (opened is null || FileText.LooksBinary(opened))
                {
                    continue;
                }

                matches += await SearchFileAsync(file.RelativePath, opened, matcher, lines, MaxMatches - matches, cancellationToken);
                if (matches >= MaxMatches)
                {
                    limitNote = $"[stopped at {MaxMatches} matches]";
                    break;
                }
            }
        }
        catch (RegexMatchTimeoutException)
        {
            return ToolResult.Error("The regular expression took too long to match; use a simpler one.");
        }

        if (matches == 0)
        {
            return ToolResult.Ok($"No matches for the query in {path.Display}.{(limitNote.Length > 0 ? " " + limitNote : "")}");
        }

        return ToolResult.Ok(lines.Append(limitNote).ToString().TrimEnd('\n'));
    }

    private static Func<string, bool> CreateMatcher(string query, bool useRegex, bool ignoreCase)
    {
        if (!useRegex)
        {
            var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            return line => line.Contains(query, comparison);
        }

        try
        {
            var regex = new Regex(query, RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None), RegexTimeout);
            return regex.IsMatch;
        }
        catch (ArgumentException ex)
        {
            throw new ToolArgumentException($"'query' is not a valid regular expression: {ex.Message}", ex);
        }
    }

    private static async Task<int> SearchFileAsync(string relativePath, WorkspaceFile file, Func<string, bool> matcher, StringBuilder lines, int room,
        CancellationToken cancellationToken)
    {
        await using var stream = file.OpenStream();
        using var reader = new StreamReader(stream, FileText.Utf8, detectEncodingFromByteOrderMarks: true);
        var found = 0;
        var number = 0;
        while (found < room && await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            number++;
            if (!matcher(line))
            {
                continue;
            }

            found++;
            var shown = line.Length > MaxLineLength ? line[..MaxLineLength] + "…" : line;
            lines.Append(relativePath).Append(':').Append(number).Append(": ").Append(shown).Append('\n');
        }

        return found;
    }
}
