using System.Text.Json;

namespace Flowith2Api.Tests.Infrastructure;

/// <summary>
/// Runs one probe script of <c>tests/node-clients</c> once against a real cluster and keeps what each of its scenarios
/// saw: the script prints one JSON line per scenario, <c>{"name", "ok", ...}</c>. Lines that are not JSON (a client
/// library's own warnings) stay in <see cref="Output"/>. Fails (never skips) when node or a package is missing.
/// </summary>
public abstract class NodeProbe(string script, params string[] requiredPackages) : IAsyncLifetime
{
    public Dictionary<string, JsonElement> Results { get; } = [];
    public string Output { get; private set; } = "";

    public async Task InitializeAsync()
    {
        foreach (var package in requiredPackages)
        {
            NodeClients.Require(package + "/package.json");
        }

        await using var cluster = await GatewayCluster.StartAsync();
        var (_, stdout, stderr) = await NodeClients.RunNodeAsync([script],
            new Dictionary<string, string> { ["GATEWAY_URL"] = cluster.GatewayUri.ToString(), ["API_KEY"] = GatewayCluster.UserKey },
            NodeClients.Directory, TimeSpan.FromMinutes(2));
        Output = stdout + stderr;
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('{'))
            {
                var result = JsonDocument.Parse(line).RootElement.Clone();
                Results[result.GetProperty("name").GetString()!] = result;
            }
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A scenario's result, which must have run without an exception.</summary>
    public JsonElement Ok(string name)
    {
        Assert.True(Results.TryGetValue(name, out var result), $"{name} did not run; the probe printed:\n{Output}");
        Assert.True(result.GetProperty("ok").GetBoolean(), $"{name}: {result}");
        return result;
    }
}
