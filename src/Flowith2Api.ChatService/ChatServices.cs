using System.Net;
using Flowith2Api.ChatService.Credentials;
using Flowith2Api.ChatService.Dialects.Responses;
using Flowith2Api.ChatService.Models;
using Flowith2Api.ChatService.ServerTools;
using Flowith2Api.ChatService.Sessions;
using Flowith2Api.Contracts;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Flowith2Api.ChatService;

public static class ChatServices
{
    public static WebApplicationBuilder AddChatServices(this WebApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, Apis.AdminSessionsJsonContext.Default));
        builder.Services.AddOptions<FlowithOptions>()
            .Configure<IConfiguration>(FlowithOptions.Bind)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddOptions<ChatOptions>()
            .Configure<IConfiguration>(ChatOptions.Bind)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<PoolOptions>().Configure<IConfiguration>(BindPoolOptions);
        builder.Services.AddOptions<ModelCatalogOptions>().Configure<IConfiguration>(ModelCatalogOptions.Bind).ValidateOnStart();

        builder.Services.AddSingleton(TimeProvider.System);

        // Admin overrides (PATCH /v1/admin/config) are the last configuration source; these options follow them live.
        var withAdmin = builder.AddAdminState();
        builder.Services.AddSingleton<IOptionsChangeTokenSource<ChatOptions>>(new ConfigurationChangeTokenSource<ChatOptions>(builder.Configuration));
        builder.Services.AddSingleton<IOptionsChangeTokenSource<FlowithOptions>>(new ConfigurationChangeTokenSource<FlowithOptions>(builder.Configuration));
        builder.Services.AddSingleton<IOptionsChangeTokenSource<LongContextOptions>>(new ConfigurationChangeTokenSource<LongContextOptions>(builder.Configuration));
        builder.Services.AddSingleton<IOptionsChangeTokenSource<ServerToolOptions>>(new ConfigurationChangeTokenSource<ServerToolOptions>(builder.Configuration));
        builder.Services.AddSingleton<IOptionsChangeTokenSource<PoolOptions>>(new ConfigurationChangeTokenSource<PoolOptions>(builder.Configuration));
        if (withAdmin)
        {
            // The AdminService keeps credentials; the environment only seeds them there.
            builder.Services.AddSingleton<AdminCredentialSource>();
            builder.Services.AddSingleton<ICredentialSource>(services => services.GetRequiredService<AdminCredentialSource>());
            builder.Services.AddSingleton<ICredentialOutcomeReporter>(services => services.GetRequiredService<AdminCredentialSource>());
            builder.Services.AddSingleton<IAdminStateCache>(services => services.GetRequiredService<AdminCredentialSource>());
            builder.Services.AddHostedService<OutcomeFlusher>();
        }
        else
        {
            builder.Services.AddSingleton<ICredentialSource, EnvironmentCredentialSource>();
        }

        builder.Services.AddSingleton<ICredentialPool, CredentialPool>();
        builder.Services.AddSingleton<CredentialProbeService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CredentialProbeService>());
        builder.Services.AddOptions<LongContextOptions>().Configure<IConfiguration>(LongContextOptions.Bind);
        builder.Services.AddSingleton<SessionService>();
        builder.Services.AddSingleton<ChatExecutor>();
        builder.Services.AddSingleton<ChatStats>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ChatStats>());
        builder.Services.AddSingleton<ChatGauges>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ChatGauges>());
        builder.Services.AddOptions<ServerToolOptions>().Configure<IConfiguration>(ServerToolOptions.Bind);
        builder.Services.AddSingleton<ToolLoop>();
        builder.Services.AddSingleton<Turns.TurnRunner>();
        builder.Services.AddSingleton<Dialects.Responses.ResponsesServices>();
        builder.Services.AddHttpClient<ToolServiceClient>(http => http.Timeout = Timeout.InfiniteTimeSpan).WithoutDefaultResilience();
        builder.Services.AddSingleton<ModelCatalog>();
        builder.Services.AddSingleton<TokenCounter>();
        // Failover and timeouts of upstream calls are ours (ChatExecutor, FlowithClient).
        builder.Services.AddHttpClient<FlowithClient>(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .WithoutDefaultResilience()
            .ConfigurePrimaryHttpMessageHandler(services =>
            {
                var options = services.GetRequiredService<IOptions<FlowithOptions>>().Value;
                return new SocketsHttpHandler
                {
                    AutomaticDecompression = DecompressionMethods.All,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                    ConnectTimeout = TimeSpan.FromSeconds(10),
                    UseCookies = false,
                    Proxy = options.Proxy is null ? null : new WebProxy(options.Proxy),
                    UseProxy = options.Proxy is not null,
                    // Each open upstream stream holds a socket: beyond the descriptor budget, calls wait for a free
                    // connection (bounded by the first-byte timeout) instead of failing to open one.
                    MaxConnectionsPerServer = ProcessLimits.ConnectionBudget ?? int.MaxValue,
                };
            });

        AddStateStore(builder);
        return builder;
    }

    private static void BindPoolOptions(PoolOptions options, IConfiguration configuration)
    {
        options.TransientCooldown = TimeSpan.FromMilliseconds(ChatOptions.ReadInt(configuration, SeedSettings.UpstreamRetryBackoffMs, 200));
        var probe = ChatOptions.ReadInt(configuration, "CREDENTIAL_PROBE_INTERVAL_SECONDS", (int)options.ProbeInterval.TotalSeconds);
        options.ProbeInterval = TimeSpan.FromSeconds(Math.Max(0, probe));
        var rateLimitCooldown = ChatOptions.ReadInt(configuration, "RATE_LIMIT_COOLDOWN_MS", (int)options.RateLimitCooldown.TotalMilliseconds);
        options.RateLimitCooldown = TimeSpan.FromMilliseconds(Math.Max(0, rateLimitCooldown));
    }

    /// <summary>Redis when configured (shared by every replica), else this process's memory (single instance).</summary>
    private static void AddStateStore(WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PendingResponseWrites>();
        if (AddRedisIfConfigured(builder))
        {
            builder.Services.AddSingleton(new RedisKeys(RedisLayout.Prefix(builder.Configuration)));
            builder.Services.AddSingleton<ICredentialStateStore, RedisCredentialStateStore>();
            builder.Services.AddSingleton<ISessionStore, RedisSessionStore>();
            builder.Services.AddSingleton<IResponseStore, RedisResponseStore>();
        }
        else
        {
            builder.Services.AddSingleton<ICredentialStateStore, InMemoryCredentialStateStore>();
            builder.Services.AddSingleton<ISessionStore, InMemorySessionStore>();
            builder.Services.AddSingleton<IResponseStore, InMemoryResponseStore>();
        }
    }

    private static bool AddRedisIfConfigured(WebApplicationBuilder builder)
    {
        if (!builder.AddRedisWhenConfigured())
        {
            return false;
        }

        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>(RedisConnection.Name, tags: ["ready"]);
        return true;
    }

    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var latency = await redis.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy($"PING {latency.TotalMilliseconds:F1} ms");
            }
            catch (RedisException e)
            {
                return HealthCheckResult.Unhealthy("Redis does not answer.", e);
            }
        }
    }
}
