using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flowith2Api.AppHost.Tests;

/// <summary>
/// The real AppHost, as <c>dotnet run --project src/Flowith2Api.AppHost -- --fake-upstream</c> starts it: Redis and
/// PostgreSQL (local executables here, no Docker engine), the four services, and the fake Flowith, on a random
/// gateway port with a temporary data directory.
/// </summary>
public class AppHostFixture : IAsyncLifetime
{
    public const string ApiKey = "sk-apphost-test-user-key";
    public const string AdminKey = "sk-apphost-test-admin-key";
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private string _dataDirectory = null!;

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>What the AppHost itself logged (category "Flowith2Api"): its ready banner.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> AppHostLog { get; } = new();

    public Uri GatewayUri { get; private set; } = null!;

    /// <summary>This run's data directory (DATA_DIR).</summary>
    public string DataDirectory => _dataDirectory;

    /// <summary>What this fixture adds to the AppHost's arguments.</summary>
    protected virtual string[] ExtraArguments => [];

    public async Task InitializeAsync()
    {
        var port = FreePort();
        _dataDirectory = Path.Combine(Path.GetTempPath(), "flowith2api-apphost-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dataDirectory);
        if (!OperatingSystem.IsWindows())
        {
            // PostgreSQL runs as an unprivileged user when the tests run as root: it must be able to reach its data.
            File.SetUnixFileMode(_dataDirectory, (UnixFileMode)0b111_101_101);
        }

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Flowith2Api_AppHost>(
        [
            "--fake-upstream",
            $"PORT={port}",
            $"DATA_DIR={_dataDirectory}",
            $"API_KEYS={ApiKey}",
            "LOG_LEVEL=warn",
            .. ExtraArguments,
        ]);

        builder.Services.AddLogging(logging => logging.AddProvider(new QueueLoggerProvider(AppHostLog)));
        using var timeout = new CancellationTokenSource(StartTimeout);
        App = await builder.BuildAsync(timeout.Token);
        await App.StartAsync(timeout.Token);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("gateway", timeout.Token);
        GatewayUri = new Uri($"http://localhost:{port}");
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// The AppHost in its embedded mode (<c>INFRASTRUCTURE=embedded</c>: no Redis, no PostgreSQL; SQLite and in-process
/// state), which is what a machine without redis-server and PostgreSQL gets from the README's first command.
/// </summary>
public sealed class EmbeddedAppHostFixture : AppHostFixture
{
    protected override string[] ExtraArguments => ["INFRASTRUCTURE=embedded", $"ADMIN_KEY={AdminKey}"];
}

/// <summary>Keeps the AppHost's own log lines (category "Flowith2Api").</summary>
internal sealed class QueueLoggerProvider(System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => categoryName == "Flowith2Api" ? new QueueLogger(lines) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class QueueLogger(System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception));
    }
}
