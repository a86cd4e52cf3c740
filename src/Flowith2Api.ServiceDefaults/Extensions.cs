using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// What every Flowith2Api service shares: OpenTelemetry, health checks, service discovery,
/// resilience for internal calls, the seed's LOG_LEVEL, the internal-secret guard and request ids.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string ReadinessEndpointPath = "/ready";
    public const string MetricsEndpointPath = "/metrics";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        Redaction.RememberConfigured(builder.Configuration);
        builder.ConfigureJsonLogging();
        builder.ApplySeedLogLevel();
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        builder.Services.AddSingleton<InternalSecret>();

        builder.Services.AddSingleton<ShutdownDrain>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ShutdownDrain>());
        var drain = ShutdownDrain.ReadSeconds(builder.Configuration, ShutdownDrain.DrainSecondsSetting, 30)
            + ShutdownDrain.ReadSeconds(builder.Configuration, ShutdownDrain.DelaySecondsSetting, 0);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = drain + ShutdownDrain.Grace);
        return builder;
    }

    /// <summary>Maps LOG_LEVEL (debug|info|warn|error) from the original project onto the logging minimum level.</summary>
    public static TBuilder ApplySeedLogLevel<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var level = SeedSettings.ParseLogLevel(builder.Configuration[SeedSettings.LogLevel]);
        if (level is { } minimum)
        {
            builder.Logging.SetMinimumLevel(minimum);
            builder.Logging.AddFilter("Flowith2Api", minimum);
        }

        return builder;
    }

    /// <summary>
    /// Logs as one JSON object per line on standard output (trace id, span id and request id on every line of a
    /// request), through the redaction component; the same records go to OpenTelemetry.
    /// </summary>
    public static TBuilder ConfigureJsonLogging<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(options => options.FormatterName = RedactingJsonConsoleFormatter.FormatterName)
            .AddConsoleFormatter<RedactingJsonConsoleFormatter, ConsoleFormatterOptions>();
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
            logging.AddProcessor(new RedactingLogProcessor());
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(Telemetry.MeterName)
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddProcessor(new RedactingSpanProcessor())
                .AddSource(Telemetry.ActivitySourceName)
                .AddSource("Yarp.ReverseProxy")
                .AddSource("Npgsql")
                .AddRedisInstrumentation(redis => redis.FlushInterval = TimeSpan.FromSeconds(1))
                .AddAspNetCoreInstrumentation(options =>
                    options.Filter = context => !IsInfrastructurePath(context.Request.Path))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"])
            .AddCheck<DrainingHealthCheck>("draining", tags: ["ready"]);
        return builder;
    }

    /// <summary>
    /// The middleware every internal service runs first: no answer before the whole request body is in
    /// (<see cref="RequestBodyDrain"/>), request ids on traces and responses, then the internal-secret guard (calls
    /// that bypass the Gateway are refused).
    /// </summary>
    public static WebApplication UseInternalServiceDefaults(this WebApplication app)
    {
        app.UseRequestBodyDrain();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseLastResortErrors();
        app.UseErrorBodiesForBareStatuses();
        app.UseMiddleware<InternalSecretMiddleware>();
        return app;
    }

    /// <summary>
    /// Health (<c>/health</c>: every check), liveness (<c>/alive</c>), readiness (<c>/ready</c>), Prometheus text
    /// (<c>/metrics</c>). Where the app authorizes (the Gateway), <paramref name="metricsPolicy"/> guards the metrics
    /// and the health endpoints are marked open.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, string? metricsPolicy = null)
    {
        IEndpointConventionBuilder[] health =
        [
            app.MapHealthChecks(HealthEndpointPath),
            app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") }),
            // Readiness for load balancers: only "am I draining" — a Redis or database blip must not take every replica
            // out of rotation (the services degrade without them); /health keeps reporting those.
            app.MapHealthChecks(ReadinessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("ready") }),
        ];
        var metrics = app.MapPrometheusScrapingEndpoint(MetricsEndpointPath);
        if (metricsPolicy is not null)
        {
            metrics.RequireAuthorization(metricsPolicy);
            foreach (var endpoint in health)
            {
                endpoint.AllowAnonymous();
            }
        }

        return app;
    }

    public static bool IsInfrastructurePath(Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments(HealthEndpointPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(AlivenessEndpointPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(ReadinessEndpointPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(MetricsEndpointPath, StringComparison.OrdinalIgnoreCase);
}
