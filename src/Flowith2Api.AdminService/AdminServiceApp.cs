using Flowith2Api.AdminService.Apis;
using Flowith2Api.AdminService.Data;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Flowith2Api.AdminService;

/// <summary>Builds the AdminService: durable state (credentials, keys, config, stats) and the admin API.</summary>
public static class AdminServiceApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = ServiceHost.CreateBuilder(args);
        builder.Services.AddProblemDetails();
        builder.Services.AddServiceOpenApi();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SecretProtector>();
        builder.Services.AddSingleton<ChangeNotifier>();
        builder.Services.AddAdminStorage(builder.Configuration);
        builder.Services.AddHostedService<StorageInitializer>();
        builder.Services.AddHostedService<StatsRollup>();
        builder.Services.AddSingleton<LocalStats>();
        builder.Services.AddSingleton<StatsSeries>();
        builder.Services.AddHostedService(services => services.GetRequiredService<StatsSeries>());
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        builder.AddRedisWhenConfigured();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, Apis.KeysJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, Apis.ConfigJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, Apis.StatsJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, Apis.CredentialsJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, InternalKeysJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, InternalCredentialsJsonContext.Default);
        });

        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseInternalServiceDefaults();
        app.Use(static (context, next) =>
        {
            // /internal/* is for the services themselves: a client request the Gateway forwarded (it always names the
            // caller's key) never reaches it, whatever path trick brought it here.
            if (context.Request.Path.StartsWithSegments("/internal", StringComparison.OrdinalIgnoreCase)
                && context.Request.Headers.ContainsKey(InternalHeaders.KeyId))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            if (context.Request.Path.StartsWithSegments("/v1/admin", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers.CacheControl = "no-store"; // admin answers hold keys, credentials and statistics
            }

            return next(context);
        });
        app.MapDefaultEndpoints();
        app.MapServiceOpenApi();
        app.MapCredentialsApi();
        app.MapInternalCredentialsApi();
        app.MapConfigApi();
        app.MapKeysApi();
        app.MapStatsApi();
        app.MapInternalChangesApi();
        app.MapConsoleApi();
        app.MapProblemFallback("admin service");
        return app;
    }

    private sealed class DatabaseHealthCheck(IServiceProvider services) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AdminDbContext>();
            return await db.Database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The database does not answer.");
        }
    }
}
