using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flowith2Api.AppHost.Infrastructure;

/// <summary>A server the services reference, and the connection name they know it by.</summary>
public sealed record InfrastructureReference(IResourceBuilder<IResourceWithConnectionString> Resource, string ConnectionName);

/// <summary>Redis and the admin database as the services see them; null in embedded mode.</summary>
public sealed record InfrastructureResources(string Mode, InfrastructureReference? Redis, InfrastructureReference? AdminDb);

/// <summary>
/// The one place infrastructure is chosen (SPEC section 1): connection strings for existing servers win; else
/// containers when a container runtime answers; else locally installed <c>redis-server</c> and PostgreSQL binaries
/// as executables with their data under <c>./data/</c>; else the embedded defaults (SQLite, in-process state).
/// </summary>
public static class InfrastructureSelector
{
    public const string RedisName = "redis";
    public const string AdminDbName = "admindb";

    public static InfrastructureResources Add(IDistributedApplicationBuilder builder, AppHostSettings settings)
    {
        var config = builder.Configuration;
        var redisConnection = config.GetConnectionString(RedisName);
        var dbConnection = config.GetConnectionString(AdminDbName);
        if (!string.IsNullOrWhiteSpace(redisConnection) || !string.IsNullOrWhiteSpace(dbConnection))
        {
            return new InfrastructureResources("connection-strings",
                string.IsNullOrWhiteSpace(redisConnection) ? null : new(builder.AddConnectionString(RedisName), RedisName),
                string.IsNullOrWhiteSpace(dbConnection) ? null : new(builder.AddConnectionString(AdminDbName), AdminDbName));
        }

        // Publishing (the Aspire manifest for aspirate/Kubernetes) always describes containers: a cluster runs images,
        // not this machine's binaries.
        var mode = builder.ExecutionContext.IsPublishMode ? "containers" : settings.InfrastructureMode;
        if (mode is "auto" or "containers" && (mode == "containers" || ContainerRuntimeAnswers()))
        {
            var redis = builder.AddRedis(RedisName).WithDataVolume();
            var db = builder.AddPostgres("postgres").WithDataVolume().AddDatabase(AdminDbName);
            return new InfrastructureResources("containers", new(redis, RedisName), new(db, AdminDbName));
        }

        if (mode is "auto" or "local" && LocalBinaries.Find() is { } binaries)
        {
            var dataDirectory = settings.ResolveDataDirectory(builder.AppHostDirectory);
            var redis = AddLocalRedis(builder, binaries.RedisServer, Path.Combine(dataDirectory, "redis"));
            var db = AddLocalPostgres(builder, binaries.PostgresBin, Path.Combine(dataDirectory, "postgres"));
            return new InfrastructureResources("local", redis, db);
        }

        WarnOnce(builder, "No container runtime, no connection strings and no local redis-server/PostgreSQL binaries: "
            + "running embedded (SQLite under ./data, in-process sessions and credential pool). This mode is single-instance.");
        return new InfrastructureResources("embedded", null, null);
    }

    private static InfrastructureReference AddLocalRedis(IDistributedApplicationBuilder builder, string redisServer, string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var port = FreePort();
        var resource = new LocalServerResource(RedisName, redisServer, dataDirectory, $"127.0.0.1:{port},abortConnect=false");
        var redis = builder.AddResource(resource)
            .WithArgs("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                "--dir", dataDirectory, "--appendonly", "yes", "--save", "", "--protected-mode", "yes")
            .WithEndpoint(name: "tcp", port: port, targetPort: port, scheme: "tcp", isProxied: false)
            .WithTcpHealthCheck(builder, port);
        return new(redis, RedisName);
    }

    private static InfrastructureReference AddLocalPostgres(IDistributedApplicationBuilder builder, string binDirectory, string dataDirectory)
    {
        var port = FreePort();
        var script = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "..", "scripts", "run-postgres.sh"));
        var connectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=" + AdminDbName;
        var resource = new LocalServerResource("postgres", "bash", Path.GetDirectoryName(script)!, connectionString);
        var postgres = builder.AddResource(resource)
            .WithArgs(script, binDirectory, dataDirectory, port.ToString(System.Globalization.CultureInfo.InvariantCulture), AdminDbName)
            .WithEndpoint(name: "tcp", port: port, targetPort: port, scheme: "tcp", isProxied: false)
            .WithTcpHealthCheck(builder, port);

        // The services know the database by its logical name, whatever runs it.
        return new(postgres, AdminDbName);
    }

    private static IResourceBuilder<T> WithTcpHealthCheck<T>(this IResourceBuilder<T> resource, IDistributedApplicationBuilder builder, int port)
        where T : IResource
    {
        var key = $"{resource.Resource.Name}-tcp";
        builder.Services.AddHealthChecks().AddCheck(key, new TcpHealthCheck(IPAddress.Loopback, port));
        return resource.WithHealthCheck(key);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool ContainerRuntimeAnswers()
    {
        var runtime = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME") ?? "docker";
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, "info --format {{.ServerVersion}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }

            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return false;
        }
    }

    private static void WarnOnce(IDistributedApplicationBuilder builder, string message)
    {
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Flowith2Api.AppHost").LogWarning("{Message}", message);
            return Task.CompletedTask;
        });
    }
}
