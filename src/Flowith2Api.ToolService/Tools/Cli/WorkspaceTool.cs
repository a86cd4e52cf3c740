using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>A bad argument, with a message for the model.</summary>
public sealed class ToolArgumentException : Exception
{
    public ToolArgumentException()
    {
    }

    public ToolArgumentException(string message)
        : base(message)
    {
    }

    public ToolArgumentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Base of the tools that work in the caller's workspace: refusals, bad arguments and file-system failures become
/// <see cref="ToolResult.Error"/> results whose text never shows host paths.
/// </summary>
public abstract class WorkspaceTool : ITool
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    public abstract JsonElement InputSchema { get; }

    public virtual ToolKind Kind => ToolKind.Cli;

    public async Task<ToolResult> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        try
        {
            if (arguments.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
            {
                return ToolResult.Error($"The arguments of {Name} must be a JSON object.");
            }

            return await RunAsync(arguments, context, cancellationToken);
        }
        catch (WorkspacePathException ex)
        {
            return ToolResult.Error(ex.Message);
        }
        catch (ToolArgumentException ex)
        {
            return ToolResult.Error(ex.Message);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return ToolResult.Error("The file or directory does not exist (it may have been removed meanwhile).");
        }
        catch (UnauthorizedAccessException)
        {
            return ToolResult.Error("Permission denied.");
        }
        catch (IOException ex)
        {
            return ToolResult.Error($"The file operation failed: {WorkspacePaths.Scrub(context.Workspace, ex.Message)}");
        }
    }

    protected abstract Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken);
}
