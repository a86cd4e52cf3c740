using System.Runtime.InteropServices;
using System.Text.Json;
using Flowith2Api.ToolService;
using Flowith2Api.ToolService.Sandbox;
using Flowith2Api.ToolService.Tools;
using Microsoft.Extensions.Options;

namespace Flowith2Api.Tests.ToolService;

/// <summary>A temporary workspace root with per-key workspaces, the real bubblewrap sandbox and tool options.</summary>
internal sealed class ToolHarness : IDisposable
{
    /// <summary>One sandbox for all tests: it probes bubblewrap once.</summary>
    public static readonly BubblewrapSandbox SharedSandbox = new();

    public ToolHarness(Action<ToolOptions>? configure = null)
    {
        Root = Directory.CreateTempSubdirectory("f2a-tools-").FullName;
        Outside = Directory.CreateTempSubdirectory("f2a-outside-").FullName;
        Settings = new ToolOptions { WorkspaceRoot = Root, CommandTimeout = TimeSpan.FromSeconds(20) };
        configure?.Invoke(Settings);
        Options = Microsoft.Extensions.Options.Options.Create(Settings);
        Workspaces = new Workspaces(Options);
        Context = Workspaces.ContextFor("key-a");
    }

    public string Root { get; }

    /// <summary>A directory outside every workspace, for escape attempts.</summary>
    public string Outside { get; }

    public ToolOptions Settings { get; }

    public IOptions<ToolOptions> Options { get; }

    public Workspaces Workspaces { get; }

    public ToolContext Context { get; }

    public ISandbox Sandbox { get; } = SharedSandbox;

    public string Workspace => Context.Workspace;

    public static Task<ToolResult> RunAsync(ITool tool, string json, ToolContext context)
    {
        using var document = JsonDocument.Parse(json);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return tool.ExecuteAsync(document.RootElement.Clone(), context, timeout.Token);
    }

    public Task<ToolResult> RunAsync(ITool tool, string json) => RunAsync(tool, json, Context);

    /// <summary>Runs a tool that must succeed and returns its text.</summary>
    public async Task<string> OkAsync(ITool tool, string json)
    {
        var result = await RunAsync(tool, json);
        Assert.False(result.IsError, $"{tool.Name} failed: {result.Text}");
        return result.Text;
    }

    /// <summary>Runs a tool that must fail and returns its message.</summary>
    public async Task<string> ErrorAsync(ITool tool, string json)
    {
        var result = await RunAsync(tool, json);
        Assert.True(result.IsError, $"{tool.Name} should have failed but answered: {result.Text}");
        return result.Text;
    }

    public static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public static string Arguments(object value) => JsonSerializer.Serialize(value);

    public static void HardLink(string existing, string newPath)
    {
        if (NativeMethods.Link(existing, newPath) != 0)
        {
            throw new IOException($"link() failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose()
    {
        foreach (var directory in new[] { Root, Outside })
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
    }
}
