using System.Diagnostics;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Xunit.Abstractions;
using static Flowith2Api.Tests.ToolService.Races.RaceJudge;

namespace Flowith2Api.Tests.ToolService.Races;

/// <summary>
/// The attack as an ordinary API key makes it: with CLI mode on, one MCP client runs <c>bash_execute</c> with a loop
/// that keeps swapping a name in its workspace for a link out of it, while other MCP clients of the same key call the
/// file tools on that name as fast as they can, all through the Gateway's <c>/mcp</c>. Same shapes, targets and rules as
/// <see cref="FileToolRaceTests"/>.
/// </summary>
public sealed class McpRaceTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Tool calls per tool and per shape (the leaf, the middle directory) through the Gateway.</summary>
    public const int Attempts = 5_000;

    /// <summary>Clients calling the raced tool at once.</summary>
    private const int Callers = 3;

    private const int MinFlips = 200;
    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The attacker's loop, run with python3 inside the sandbox: flips a file or trades a directory with a link.</summary>
    private const string SwapperScript = """
        import ctypes, os, shutil, sys, time
        libc = ctypes.CDLL(None, use_errno=True)
        shape, name, inner, stop = sys.argv[1:5]
        targets = sys.argv[5:]
        def rm(p):
            try:
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    os.unlink(p)
            except OSError:
                pass
        def put(p, text):
            with open(p + ".new", "w") as f:
                f.write(text)
            os.replace(p + ".new", p)
        flips, end = 0, time.time() + 170
        while not os.path.exists(stop) and time.time() < end:
            target = targets[flips % len(targets)]
            try:
                if shape == "file":
                    put(name, "inside-content-of-the-workspace")
                    rm(name + ".l"); os.symlink(target, name + ".l"); os.replace(name + ".l", name)
                else:
                    if not os.path.isdir(name) or os.path.islink(name):
                        rm(name); os.makedirs(name, exist_ok=True)
                    if not os.path.isfile(os.path.join(name, inner)) or os.path.islink(os.path.join(name, inner)):
                        put(os.path.join(name, inner), "inside-content-of-the-workspace")
                    rm(name + ".alt"); os.symlink(target, name + ".alt")
                    libc.renameat2(-100, name.encode(), -100, (name + ".alt").encode(), 2)
                    libc.renameat2(-100, name.encode(), -100, (name + ".alt").encode(), 2)
                flips += 1
            except OSError:
                pass
        print(flips)
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("f2a-mcp-race-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("f2a-mcp-outside-").FullName;
    private GatewayCluster _cluster = null!;
    private RaceJudge _judge = null!;
    private string _otherKeyDirectory = null!;
    private int _phase;

    public async Task InitializeAsync()
    {
        _cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ToolSettings = new Dictionary<string, string>
            {
                ["ENABLE_CLI_MODE"] = "true",
                ["CLI_WORKSPACE"] = _root,
                ["TOOL_TIMEOUT_MS"] = "200000",
            },
        });

        // The other key makes its workspace; then this key its own.
        await using (var other = await McpSession.ConnectAsync(_cluster, GatewayCluster.SecondUserKey))
        {
            await other.OkAsync("file_write", new() { ["path"] = SecretName, ["content"] = OtherKeySecret });
        }

        var otherWorkspace = Assert.Single(Directory.GetDirectories(_root));
        _otherKeyDirectory = Path.GetFileName(otherWorkspace);
        await using (var mine = await McpSession.ConnectAsync(_cluster, GatewayCluster.UserKey))
        {
            await mine.OkAsync("file_write", new() { ["path"] = "swap.py", ["content"] = SwapperScript });
        }

        _judge = new RaceJudge(_root, _outside, otherWorkspace);
        _judge.Plant();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        foreach (var directory in new[] { _root, _outside })
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

    [Fact]
    public async Task Through_mcp_with_a_plain_key_no_file_tool_reaches_what_a_swapped_in_link_leads_to()
    {
        var other = $"../{_otherKeyDirectory}";
        var report = new List<string>();
        foreach (var tool in ReadOnlyTools.Concat(ChangingTools))
        {
            var changing = ChangingTools.Contains(tool);
            // The sandbox sees only the workspace; the links' targets are read by the tool service on the host.
            string[] leafTargets = changing
                ? [_judge.OutsideFile, $"{other}/{SecretName}"]
                : [_judge.OutsideFile, $"{other}/{SecretName}", "/etc/passwd", "/proc/self/environ"];
            var leaf = await RaceAsync(tool, "file", "x", "-", leafTargets, directory: null);

            (string Target, string Inner)[] middleTargets = changing
                ? [(_outside, SecretName), (other, SecretName)]
                : [(_outside, SecretName), (other, SecretName), ("/etc", "passwd"), ("/proc/self", "environ")];
            var middle = new RaceOutcome();
            foreach (var (target, inner) in middleTargets)
            {
                middle.Add(await RaceAsync(tool, "directory", "d", inner, [target], directory: "d", Attempts / middleTargets.Length));
                _judge.AssertOutsideUntouched();
            }

            RaceOutcome.AssertNoEscape(tool, leaf, middle, MinFlips);
            report.Add($"{tool}: {leaf.Attempts + middle.Attempts} attempts in {(leaf.Elapsed + middle.Elapsed).TotalSeconds:F0} s, "
                + $"{leaf.Succeeded + middle.Succeeded} succeeded, {leaf.Refused + middle.Refused} refused, 0 escapes");
        }

        _judge.AssertOutsideUntouched();
        output.WriteLine(string.Join('\n', report));
    }

    /// <summary>One phase: the attacker's loop flips a fresh name while the callers run the tool against it.</summary>
    private async Task<RaceOutcome> RaceAsync(string tool, string shape, string baseName, string inner, string[] targets, string? directory,
        int attempts = Attempts)
    {
        var phase = ++_phase;
        var name = $"{baseName}{phase}";
        var path = shape == "file" ? name : $"{name}/{inner}";
        var stop = $"stop-{phase}";
        var changes = ChangingTools.Contains(tool);
        var outcome = new RaceOutcome();
        await using var attacker = await McpSession.ConnectAsync(_cluster, GatewayCluster.UserKey);
        var command = $"python3 swap.py {shape} {name} {inner} {stop} {string.Join(' ', targets.Select(t => $"'{t}'"))}";
        var swapping = attacker.CallAsync("bash_execute", new() { ["command"] = command, ["timeout_ms"] = 190_000 }, PhaseTimeout);

        var clock = Stopwatch.StartNew();
        var callers = new List<Task>();
        var gate = new Lock();
        var next = 0;
        for (var c = 0; c < Callers; c++)
        {
            callers.Add(Task.Run(async () =>
            {
                await using var session = await McpSession.ConnectAsync(_cluster, GatewayCluster.UserKey);
                while (Interlocked.Increment(ref next) is var i && i <= attempts)
                {
                    var (isError, text) = await session.CallAsync(tool, ArgumentsFor(tool, path, directory is null ? null : name, i), TimeSpan.FromSeconds(60));
                    var escape = _judge.Escaped(tool, isError, text, directory is null ? null : name);
                    lock (gate)
                    {
                        escape ??= changes ? _judge.DamageOutside(tool) : null;
                        outcome.Record(isError, text, escape);
                    }
                }
            }));
        }

        await Task.WhenAll(callers).WaitAsync(PhaseTimeout);
        outcome.Elapsed = clock.Elapsed;
        await attacker.OkAsync("file_write", new() { ["path"] = stop, ["content"] = "" });
        var (failed, output) = await swapping;
        Assert.False(failed, $"the attacker's loop failed: {output}");
        using var result = JsonDocument.Parse(output);
        outcome.Flips = long.Parse(result.RootElement.GetProperty("stdout").GetString()!.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return outcome;
    }

    /// <summary>The official MCP client for one key, through the Gateway.</summary>
    private sealed class McpSession(McpClient client, HttpClientTransport transport) : IAsyncDisposable
    {
        public static async Task<McpSession> ConnectAsync(GatewayCluster cluster, string apiKey)
        {
            var transport = new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(cluster.GatewayUri, "/mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + apiKey },
            });
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return new McpSession(await McpClient.CreateAsync(transport, cancellationToken: timeout.Token), transport);
        }

        public async Task<(bool IsError, string Text)> CallAsync(string tool, Dictionary<string, object?> arguments, TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            var result = await client.CallToolAsync(tool, arguments, cancellationToken: cancel.Token);
            return (result.IsError == true, string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text)));
        }

        public async Task OkAsync(string tool, Dictionary<string, object?> arguments)
        {
            var (isError, text) = await CallAsync(tool, arguments, TimeSpan.FromSeconds(60));
            Assert.False(isError, $"{tool} failed: {text}");
        }

        public async ValueTask DisposeAsync()
        {
            await client.DisposeAsync();
            await transport.DisposeAsync();
        }
    }
}
