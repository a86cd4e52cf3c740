using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools;

/// <summary>
/// The one registry behind every door (the chat tool loop, the admin execute endpoint, MCP): which tools exist,
/// which the switches enable (<c>ENABLE_MCP</c>, <c>MCP_TOOLS</c>, <c>ENABLE_CLI_MODE</c>), and looking them up.
/// </summary>
public sealed class ToolRegistry(IEnumerable<ITool> tools, IEnumerable<IToolSource> sources, IOptionsMonitor<ToolOptions> options)
{
    private readonly IReadOnlyList<ITool> _fixed = [.. tools];
    private readonly IReadOnlyList<IToolSource> _sources = [.. sources];

    /// <summary>The built-in and CLI tools, then whatever the external sources currently offer.</summary>
    public IReadOnlyList<ITool> All => _sources.Count == 0 ? _fixed : [.. _fixed, .. _sources.SelectMany(s => s.Tools)];

    public IReadOnlyList<ITool> Enabled => [.. All.Where(IsEnabled)];

    public ITool? FindEnabled(string name) => All.FirstOrDefault(t => t.Name == name && IsEnabled(t));

    public ITool? Find(string name) => All.FirstOrDefault(t => t.Name == name);

    /// <summary>Why a known tool is off, in words that say how to turn it on.</summary>
    public string DisabledReason(ITool tool)
    {
        var settings = options.CurrentValue;
        if (tool.Kind == ToolKind.Cli && !settings.EnableCliMode)
        {
            return $"'{tool.Name}' is a CLI tool and CLI mode is off. Set ENABLE_CLI_MODE=true to enable the file and command tools.";
        }

        if (tool.Kind != ToolKind.Cli && !settings.EnableMcp)
        {
            return $"'{tool.Name}' is off because the built-in tools are disabled. Set ENABLE_MCP=true to enable them.";
        }

        return $"'{tool.Name}' is not in the MCP_TOOLS allow-list.";
    }

    public bool IsEnabled(ITool tool)
    {
        var settings = options.CurrentValue;
        var switchedOn = tool.Kind == ToolKind.Cli ? settings.EnableCliMode : settings.EnableMcp;
        return switchedOn && (settings.AllowedTools.Count == 0 || settings.AllowedTools.Contains(tool.Name, StringComparer.Ordinal));
    }
}
