using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flowith2Api.ToolService.Sandbox;
using Flowith2Api.ToolService.Tools.Cli;
using static Flowith2Api.Tests.ToolService.ToolHarness;

namespace Flowith2Api.Tests.ToolService;

public sealed class BashExecuteToolTests : IDisposable
{
    private readonly ToolHarness _harness = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly BashExecuteTool _bash;

    public BashExecuteToolTests()
    {
        _bash = new BashExecuteTool(_harness.Sandbox, _harness.Options);
    }

    public void Dispose()
    {
        _timeout.Dispose();
        _harness.Dispose();
    }

    [Fact]
    public void Bubblewrap_is_installed_and_the_sandbox_is_available()
    {
        Assert.True(SharedSandbox.IsAvailable, SharedSandbox.UnavailableReason);
        Assert.Null(SharedSandbox.UnavailableReason);
    }

    [Fact]
    public async Task A_command_runs_in_the_workspace_and_returns_its_output()
    {
        var h = _harness;
        await File.WriteAllTextAsync(Path.Combine(h.Workspace, "in.txt"), "from the host");
        var result = Json(await h.OkAsync(_bash, Arguments(new { command = "pwd; cat in.txt; echo oops >&2; echo made > out.txt; exit 3" })));
        Assert.Equal("/workspace\nfrom the host", result.GetProperty("stdout").GetString()!.TrimEnd());
        Assert.Equal("oops\n", result.GetProperty("stderr").GetString());
        Assert.Equal(3, result.GetProperty("exit_code").GetInt32());
        Assert.False(result.GetProperty("timed_out").GetBoolean());
        Assert.False(result.GetProperty("truncated").GetBoolean());
        Assert.Equal("made\n", await File.ReadAllTextAsync(Path.Combine(h.Workspace, "out.txt")));
    }

    [Fact]
    public async Task The_sandbox_has_no_network_and_cannot_reach_a_listener_on_host_loopback()
    {
        var h = _harness;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var result = Json(await h.OkAsync(_bash, Arguments(new
        {
            command = $"(echo hello > /dev/tcp/127.0.0.1/{port}) && echo CONNECTED; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '",
        })));
        var stdout = result.GetProperty("stdout").GetString()!;
        Assert.DoesNotContain("CONNECTED", stdout, StringComparison.Ordinal);
        Assert.Equal("lo", stdout.Trim());
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task The_sandbox_cannot_read_host_secrets_and_has_no_capabilities()
    {
        var h = _harness;
        Assert.True(File.Exists("/etc/shadow"), "the host has /etc/shadow, so its absence below is the sandbox's doing");
        var result = Json(await h.OkAsync(_bash, Arguments(new { command = "cat /etc/shadow; ls /etc; grep CapEff /proc/self/status; mknod /tmp/disk b 8 0 && echo MKNOD" })));
        var stdout = result.GetProperty("stdout").GetString()!;
        Assert.DoesNotContain("root:", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("shadow", stdout, StringComparison.Ordinal);
        Assert.Contains("CapEff:\t0000000000000000", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("MKNOD", stdout, StringComparison.Ordinal);
        Assert.Contains("/etc/shadow", result.GetProperty("stderr").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_system_is_read_only_and_the_environment_is_empty()
    {
        var h = _harness;
        Environment.SetEnvironmentVariable("F2A_SANDBOX_LEAK_TEST", "leaked-value-91");
        var result = Json(await h.OkAsync(_bash, Arguments(new { command = "touch /usr/bin/x && echo WROTE; env" })));
        var stdout = result.GetProperty("stdout").GetString()!;
        Assert.DoesNotContain("WROTE", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("leaked-value-91", stdout, StringComparison.Ordinal);
        Assert.Contains("HOME=/workspace", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_keys_workspace_is_invisible_to_commands()
    {
        var h = _harness;
        var other = h.Workspaces.ContextFor("key-b");
        await File.WriteAllTextAsync(Path.Combine(other.Workspace, "theirs.txt"), "key-b private data");
        await File.WriteAllTextAsync(Path.Combine(h.Workspace, "mine.txt"), "key-a data");

        var result = Json(await h.OkAsync(_bash, Arguments(new { command = "ls -a /workspace /workspace/..; cat /workspace/../key-b/theirs.txt" })));
        var stdout = result.GetProperty("stdout").GetString()!;
        Assert.Contains("mine.txt", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("key-b", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("private data", stdout, StringComparison.Ordinal);

        var theirs = Json((await RunAsync(_bash, Arguments(new { command = "ls" }), other)).Text);
        Assert.Equal("theirs.txt\n", theirs.GetProperty("stdout").GetString());
    }

    [Fact]
    public async Task A_command_is_killed_at_its_timeout_together_with_its_children()
    {
        var h = _harness;
        var marker = $"100.{Random.Shared.Next(100_000, 999_999)}";
        var stopwatch = Stopwatch.StartNew();
        var result = Json(await h.OkAsync(_bash, Arguments(new { command = $"sleep {marker} & sleep {marker}; wait", timeout_ms = 500 })));
        stopwatch.Stop();

        Assert.True(result.GetProperty("timed_out").GetBoolean());
        Assert.NotEqual(0, result.GetProperty("exit_code").GetInt32());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ProcessesWith(marker).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var left = ProcessesWith(marker);
        Assert.True(left.Count == 0, string.Join("\n", left.Select(Describe)));
    }

    private static string Describe(int pid)
    {
        try
        {
            string[] fields = ["Name", "State", "PPid", "NSpid"];
            var status = File.ReadAllLines($"/proc/{pid}/status").Where(line => fields.Any(f => line.StartsWith(f + ":", StringComparison.Ordinal)));
            return $"{string.Join(" | ", status)} | {File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')}";
        }
        catch (IOException)
        {
            return pid + " gone";
        }
    }

    [Fact]
    public async Task The_requested_timeout_cannot_exceed_the_configured_one()
    {
        using var h = new ToolHarness(o => o.CommandTimeout = TimeSpan.FromMilliseconds(700));
        var bash = new BashExecuteTool(h.Sandbox, h.Options);
        var stopwatch = Stopwatch.StartNew();
        var result = Json(await h.OkAsync(bash, Arguments(new { command = "sleep 30", timeout_ms = 600_000 })));
        Assert.True(result.GetProperty("timed_out").GetBoolean());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Output_over_the_cap_is_truncated_and_an_endless_writer_is_stopped()
    {
        using var h = new ToolHarness(o => o.MaxOutputBytes = 1000);
        var bash = new BashExecuteTool(h.Sandbox, h.Options);

        var result = Json(await h.OkAsync(bash, Arguments(new { command = "head -c 5000 /dev/zero | tr '\\0' a; echo done >&2" })));
        Assert.True(result.GetProperty("truncated").GetBoolean(), result.ToString());
        Assert.Equal(new string('a', 1000), result.GetProperty("stdout").GetString());

        var stopwatch = Stopwatch.StartNew();
        var endless = Json(await h.OkAsync(bash, Arguments(new { command = "yes" })));
        Assert.True(endless.GetProperty("truncated").GetBoolean());
        Assert.False(endless.GetProperty("timed_out").GetBoolean());
        Assert.Equal(1000, Encoding.UTF8.GetByteCount(endless.GetProperty("stdout").GetString()!));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task The_sandbox_passes_standard_input_and_keeps_multibyte_output_whole()
    {
        var h = _harness;
        var result = await h.Sandbox.RunAsync(
            new SandboxCommand { Program = "cat", Workspace = h.Workspace, StandardInput = "héllo wörld ✓", MaxOutputBytes = 1000 },
            _timeout.Token);
        Assert.Equal("héllo wörld ✓", result.Stdout);

        var cut = await h.Sandbox.RunAsync(
            new SandboxCommand { Program = "cat", Workspace = h.Workspace, StandardInput = "ab✓✓", MaxOutputBytes = 4 },
            _timeout.Token);
        Assert.True(cut.OutputTruncated);
        Assert.Equal("ab", cut.Stdout);
    }

    [Fact]
    public async Task A_command_outlives_the_thread_that_started_it()
    {
        // bubblewrap's --die-with-parent follows the forking thread, not the process; a short-lived starter thread
        // must not take the command down with it.
        var h = _harness;
        Task<SandboxResult>? running = null;
        var starter = new Thread(() =>
        {
            running = h.Sandbox.RunAsync(
                new SandboxCommand { Program = "bash", Arguments = ["-c", "sleep 1; echo survived"], Workspace = h.Workspace },
                _timeout.Token);
            Thread.Sleep(300);
        });
        starter.Start();
        Assert.True(starter.Join(TimeSpan.FromSeconds(10)));

        var result = await running!.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("survived\n", result.Stdout);
    }

    [Fact]
    public async Task Cpu_time_is_limited()
    {
        var h = _harness;
        var result = await h.Sandbox.RunAsync(
            new SandboxCommand { Program = "bash", Arguments = ["-c", "while :; do :; done"], Workspace = h.Workspace, CpuSeconds = 1, Timeout = TimeSpan.FromSeconds(20) },
            _timeout.Token);
        Assert.False(result.TimedOut);
        Assert.NotEqual(0, result.ExitCode);
    }

    private static List<int> ProcessesWith(string marker)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
                if (commandLine.Contains(marker, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }
}
