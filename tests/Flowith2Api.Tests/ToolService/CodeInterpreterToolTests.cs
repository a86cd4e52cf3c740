using System.Net;
using System.Net.Sockets;
using Flowith2Api.ToolService.Tools;
using Flowith2Api.ToolService.Tools.Builtin;
using static Flowith2Api.Tests.ToolService.ToolHarness;

namespace Flowith2Api.Tests.ToolService;

public sealed class CodeInterpreterToolTests : IDisposable
{
    private readonly ToolHarness _harness = new();
    private readonly CodeInterpreterTool _interpreter;

    public CodeInterpreterToolTests()
    {
        _interpreter = new CodeInterpreterTool(_harness.Sandbox, _harness.Options);
    }

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Python_runs_in_the_workspace_and_reports_the_files_it_created_or_changed()
    {
        var h = _harness;
        await File.WriteAllTextAsync(Path.Combine(h.Workspace, "untouched.txt"), "same");
        await File.WriteAllTextAsync(Path.Combine(h.Workspace, "changed.txt"), "before");
        const string code = """
            import os
            os.makedirs("out", exist_ok=True)
            with open("out/result.csv", "w") as f:
                f.write("a,b\n1,2\n")
            with open("changed.txt", "a") as f:
                f.write(" and after")
            print(sum(range(10)))
            """;

        var result = Json(await h.OkAsync(_interpreter, Arguments(new { language = "python", code })));
        Assert.Equal("45\n", result.GetProperty("stdout").GetString());
        Assert.Equal(0, result.GetProperty("exit_code").GetInt32());
        Assert.False(result.GetProperty("timed_out").GetBoolean());
        Assert.Equal(["changed.txt", "out/result.csv"], result.GetProperty("created_files").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal("a,b\n1,2\n", await File.ReadAllTextAsync(Path.Combine(h.Workspace, "out/result.csv")));
        Assert.Empty(Directory.EnumerateFiles(h.Workspace, CodeInterpreterTool.ScriptPrefix + "*"));
    }

    [Fact]
    public async Task Javascript_runs_under_node_and_reports_created_files()
    {
        var h = _harness;
        const string code = """
            const fs = require("fs");
            fs.writeFileSync("data.json", JSON.stringify({ ok: true }));
            console.log([1, 2, 3].map(x => x * 2).join(","));
            """;

        var result = Json(await h.OkAsync(_interpreter, Arguments(new { language = "javascript", code })));
        Assert.Equal("2,4,6\n", result.GetProperty("stdout").GetString());
        Assert.Equal(["data.json"], result.GetProperty("created_files").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public async Task Code_can_import_its_neighbours_in_the_workspace()
    {
        var h = _harness;
        await File.WriteAllTextAsync(Path.Combine(h.Workspace, "helper.py"), "def twice(x):\n    return 2 * x\n");
        await File.WriteAllTextAsync(Path.Combine(h.Workspace, "helper.js"), "module.exports = { twice: x => 2 * x };\n");

        var python = Json(await h.OkAsync(_interpreter, Arguments(new { language = "python", code = "import helper\nprint(helper.twice(21))" })));
        Assert.Equal("42\n", python.GetProperty("stdout").GetString());

        var node = Json(await h.OkAsync(_interpreter, Arguments(new { language = "javascript", code = "console.log(require('./helper.js').twice(4))" })));
        Assert.Equal("8\n", node.GetProperty("stdout").GetString());

        var module = Json(await h.OkAsync(_interpreter, Arguments(new { language = "javascript", code = "import { platform } from 'node:os';\nconsole.log(platform());" })));
        Assert.Equal("linux\n", module.GetProperty("stdout").GetString());
        Assert.Empty(module.GetProperty("created_files").EnumerateArray());
    }

    [Fact]
    public async Task Errors_and_timeouts_of_the_code_are_reported_not_thrown()
    {
        var h = _harness;
        var failed = Json(await h.OkAsync(_interpreter, Arguments(new { language = "python", code = "raise ValueError('boom')" })));
        Assert.NotEqual(0, failed.GetProperty("exit_code").GetInt32());
        Assert.Contains("ValueError: boom", failed.GetProperty("stderr").GetString(), StringComparison.Ordinal);

        var slow = Json(await h.OkAsync(_interpreter, Arguments(new { language = "javascript", code = "while (true) {}", timeout_ms = 800 })));
        Assert.True(slow.GetProperty("timed_out").GetBoolean());
    }

    [Fact]
    public async Task The_code_cannot_reach_a_listener_on_the_host()
    {
        var h = _harness;
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        // The listener is reachable from the host, on loopback and on the host's own addresses.
        var addresses = new List<IPAddress> { IPAddress.Loopback };
        addresses.AddRange(Dns.GetHostAddresses(Dns.GetHostName()).Where(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a)));
        foreach (var address in addresses)
        {
            using var control = new TcpClient();
            await control.ConnectAsync(address, port).WaitAsync(TimeSpan.FromSeconds(10));
            using var accepted = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        var targets = string.Join(", ", addresses.Select(a => $"\"{a}\""));
        var code = $$"""
            import socket
            for host in [{{targets}}]:
                try:
                    socket.create_connection((host, {{port}}), timeout=3)
                    print("CONNECTED", host)
                except OSError as e:
                    print("refused", host)
            """;
        var result = Json(await h.OkAsync(_interpreter, Arguments(new { language = "python", code })));
        var stdout = result.GetProperty("stdout").GetString()!;
        Assert.Equal(string.Concat(addresses.Select(a => $"refused {a}\n")), stdout);
        Assert.False(listener.Pending(), "something reached the host's listener from the sandbox");
    }

    [Fact]
    public async Task Unknown_languages_are_refused_and_the_tool_is_a_builtin()
    {
        var h = _harness;
        Assert.Contains("'language'", await h.ErrorAsync(_interpreter, Arguments(new { language = "cobol", code = "x" })), StringComparison.Ordinal);
        Assert.Equal(ToolKind.Builtin, _interpreter.Kind);
        Assert.Equal("code_interpreter", _interpreter.Name);
    }
}
