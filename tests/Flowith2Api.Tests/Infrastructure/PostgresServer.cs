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
    private readonly Process _process;
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

        var script = Path.Combine(TestEnvironment.RepositoryRoot, "scripts", "run-postgres.sh");
        var directory = Path.Combine(Path.GetTempPath(), "flowith2api-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101); // PostgreSQL runs as its own user under root
        }
        var port = TestEnvironment.FreePort();
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
        var server = new PostgresServer(process, directory, port);
        try
        {
            await Task.WhenAny(ready.Task, process.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(60));
            if (!ready.Task.IsCompleted)
            {
                throw new InvalidOperationException("PostgreSQL did not start.");
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
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
