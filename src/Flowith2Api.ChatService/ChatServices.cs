using System.Net;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Credentials;
using Flowith2Api.ChatService.Upstream;
using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Flowith2Api.ChatService;

public static class ChatServices
{
    public const string RedisConnectionName = "redis";

    public static WebApplicationBuilder AddChatServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FlowithOptions>()
            .Configure<IConfiguration>(FlowithOptions.Bind)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton<CredentialPool>();
        builder.Services.AddSingleton<TokenCounter>();
        // The upstream client must not get the default resilience handler: it would retry POSTs (spending credits)
        // and cap every attempt at 10 s. Failover and timeouts are ours.
#pragma warning disable EXTEXP0001
        builder.Services.AddHttpClient<FlowithClient>(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllResilienceHandlers()
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
                };
            });
#pragma warning restore EXTEXP0001

        AddRedisIfConfigured(builder);
        return builder;
    }

    private static void AddRedisIfConfigured(WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(RedisConnectionName) ?? builder.Configuration[SeedSettings.RedisUrl];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return;
        }

        var configuration = connectionString.StartsWith("redis://", StringComparison.OrdinalIgnoreCase)
            ? ConfigurationOptions.Parse(new Uri(connectionString).Authority)
            : ConfigurationOptions.Parse(connectionString);
        configuration.AbortOnConnectFail = false;
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(configuration));
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>(RedisConnectionName, tags: ["ready"]);
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
