using System.Diagnostics;
using System.Runtime.InteropServices;
using Npgsql;

namespace Flowith2Api.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL cluster in a temporary directory on a random loopback port, started with the project's own
/// <c>scripts/run-postgres.sh</c> (as the AppHost does). Fails, never skips, when the binaries are missing.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private Process _process;
    private readonly string _directory;

    private PostgresServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString(string database = "flowith2api") => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d).Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("PostgreSQL is not installed: run ./build.sh deps (apt-get install postgresql).");
        }

        var directory = Path.Combine(Path.GetTempPath(), "flowith2api-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101); // PostgreSQL runs as its own user under root
        }

        var port = TestEnvironment.FreePort();
        var server = new PostgresServer(await LaunchAsync(bin, directory, port), directory, port) { _bin = bin };
        return server;
    }

    private string _bin = "";

    /// <summary>Stops the server cleanly (SIGTERM, as an operator or Kubernetes would) and starts it again on the same data and port.</summary>
    public async Task RestartAsync()
    {
        _ = Kill(_process.Id, 15);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        _process.Dispose();
        _process = await LaunchAsync(_bin, _directory, Port);
    }

    private static async Task<Process> LaunchAsync(string bin, string directory, int port)
    {
        var script = Path.Combine(TestEnvironment.RepositoryRoot, "scripts", "run-postgres.sh");
        var process = Process.Start(new ProcessStartInfo("bash")
        {
            ArgumentList = { script, bin, Path.Combine(directory, "data"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), "flowith2api" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("run-postgres.sh did not start.");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("PostgreSQL ready", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Task.WhenAny(ready.Task, process.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(60));
            if (!ready.Task.IsCompleted)
            {
                throw new InvalidOperationException("PostgreSQL did not start.");
            }

            return process;
        }
        catch
        {
            if (!process.HasExited)
            {
                _ = Kill(process.Id, 15);
            }

            process.Dispose();
            throw;
        }
    }

    /// <summary>A fresh, empty database on this server.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "test_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15); // SIGTERM: the script stops PostgreSQL cleanly
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
