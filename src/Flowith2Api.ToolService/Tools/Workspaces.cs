using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools;

/// <summary>Each API key's own workspace directory under <c>CLI_WORKSPACE</c>.</summary>
public sealed class Workspaces(IOptions<ToolOptions> options)
{
    public ToolContext ContextFor(string keyId)
    {
        var safe = new string([.. keyId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
        if (safe.Length == 0)
        {
            safe = "anonymous";
        }

        var directory = Path.Combine(options.Value.WorkspaceRoot, safe);
        Directory.CreateDirectory(directory);
        return new ToolContext(keyId, directory);
    }
}
