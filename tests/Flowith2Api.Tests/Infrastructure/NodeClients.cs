using System.Diagnostics;

namespace Flowith2Api.Tests.Infrastructure;

/// <summary>
/// The real clients installed from npm in <c>tests/node-clients</c> (the OpenAI and Anthropic Node SDKs, Claude Code, the
/// Codex CLI), run as child processes. Missing packages fail the test (never skip): <c>./build.sh test</c> installs them.
/// </summary>
public static class NodeClients
{
    public static string Directory { get; } = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "node-clients");

    /// <summary>The full path of a file under <c>node_modules</c>, which must be there.</summary>
    public static string Require(string pathUnderNodeModules)
    {
        var path = Path.Combine(Directory, "node_modules", pathUnderNodeModules);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{pathUnderNodeModules} is not installed in {Directory}: run ./build.sh test (npm ci there).");
        }

        return path;
    }

    /// <summary>Runs <c>node</c> with these arguments and environment; killed (and a TimeoutException) after <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunNodeAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment,
        string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("node", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start: install nodejs (./build.sh deps).");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {string.Join(' ', arguments)} did not finish in {timeout}:\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
