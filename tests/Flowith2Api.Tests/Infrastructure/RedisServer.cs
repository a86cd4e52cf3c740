using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Flowith2Api.Tests.Infrastructure;

/// <summary>
/// A real redis-server on a random loopback port with a temporary directory, for the tests that need state shared
/// between replicas. Fails (never skips) when redis-server is missing: <c>./build.sh test</c> installs it.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly bool _appendOnly;
    private Process _process;

    private RedisServer(Process process, string directory, int port, bool appendOnly)
    {
        _process = process;
        _directory = directory;
        _appendOnly = appendOnly;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false";

    /// <param name="appendOnly">Persist with an append-only file (as the AppHost does), so a restart keeps the data.</param>
    public static async Task<RedisServer> StartAsync(bool appendOnly = false)
    {
        var port = TestEnvironment.FreePort();
        var directory = Directory.CreateTempSubdirectory("flowith2api-redis-").FullName;
        var server = new RedisServer(Launch(port, directory, appendOnly), directory, port, appendOnly);
        try
        {
            await server.WaitUntilAcceptingAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server the way an operator would (SHUTDOWN: data written out) and starts it again on the same port.</summary>
    public async Task RestartAsync()
    {
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, Port);
            await client.GetStream().WriteAsync("SHUTDOWN\r\n"u8.ToArray());
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        _process = Launch(Port, _directory, _appendOnly);
        await WaitUntilAcceptingAsync();
    }

    private static Process Launch(int port, string directory, bool appendOnly)
    {
        var executable = FindExecutable("redis-server")
            ?? throw new InvalidOperationException("redis-server is not installed: run ./build.sh deps (apt-get install redis-server).");
        var process = Process.Start(new ProcessStartInfo(executable)
        {
            ArgumentList =
            {
                "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory,
                "--save", "", "--appendonly", appendOnly ? "yes" : "no", "--appendfsync", "everysec",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitUntilAcceptingAsync()
    {
        var port = Port;
        var process = _process;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                await Task.Delay(20);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
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

    private static string? FindExecutable(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);
}
