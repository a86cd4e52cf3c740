using Flowith2Api.ToolService;
using Flowith2Api.ToolService.Sandbox;
using Flowith2Api.ToolService.Tools;
using Flowith2Api.ToolService.Tools.Builtin;
using Flowith2Api.ToolService.Tools.Cli;
using Microsoft.Extensions.DependencyInjection;

namespace Flowith2Api.Tests.ToolService;

public sealed class ToolRegistrationTests
{
    [Fact]
    public void The_registrations_provide_the_sandbox_every_cli_tool_and_the_code_interpreter()
    {
        using var provider = new ServiceCollection()
            .AddLogging()
            .AddOptions()
            .AddSandbox()
            .AddCliTools()
            .AddCodeInterpreter()
            .BuildServiceProvider();

        Assert.IsType<BubblewrapSandbox>(provider.GetRequiredService<ISandbox>());
        var tools = provider.GetServices<ITool>().ToList();
        string[] cli =
        [
            "file_read", "file_write", "file_edit", "file_delete", "file_move", "file_list", "file_search",
            "directory_create", "directory_delete", "search_files", "bash_execute", "git_status", "git_diff", "environment_info",
        ];
        Assert.Equal(cli.Order(StringComparer.Ordinal), tools.Where(t => t.Kind == ToolKind.Cli).Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["code_interpreter"], tools.Where(t => t.Kind == ToolKind.Builtin).Select(t => t.Name));
    }

    [Fact]
    public void With_cli_mode_off_the_registry_keeps_the_cli_tools_disabled()
    {
        using var provider = new ServiceCollection()
            .AddLogging()
            .AddOptions()
            .Configure<ToolOptions>(o => o.EnableCliMode = false)
            .AddSandbox()
            .AddCliTools()
            .AddCodeInterpreter()
            .AddSingleton<ToolRegistry>()
            .BuildServiceProvider();

        var registry = provider.GetRequiredService<ToolRegistry>();
        Assert.Null(registry.FindEnabled("bash_execute"));
        Assert.NotNull(registry.FindEnabled("code_interpreter"));
        Assert.Contains("ENABLE_CLI_MODE", registry.DisabledReason(registry.Find("file_read")!), StringComparison.Ordinal);
    }
}
