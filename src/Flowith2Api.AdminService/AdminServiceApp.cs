using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Flowith2Api.AdminService;

/// <summary>Builds the AdminService: durable state (credentials, keys, config, stats) and the admin API.</summary>
public static class AdminServiceApp
{
    public const string DatabaseConnectionName = "admindb";

    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = ServiceHost.CreateBuilder(args);
        builder.Services.AddProblemDetails();
        var connectionString = builder.Configuration.GetConnectionString(DatabaseConnectionName);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
            builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>(DatabaseConnectionName, tags: ["ready"]);
        }

        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseInternalServiceDefaults();
        app.MapDefaultEndpoints();
        app.MapProblemFallback("admin service");
        return app;
    }

    private sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var command = dataSource.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL does not answer.", e);
            }
        }
    }
}
