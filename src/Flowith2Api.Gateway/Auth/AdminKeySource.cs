using System.Text.Json;
using Flowith2Api.ServiceDefaults;
using StackExchange.Redis;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// Keeps the <see cref="ApiKeyStore"/> equal to the AdminService's keys: at start, within a second of a change (Redis
/// pub/sub), and every 30 s. Until the AdminService answers, the environment's keys serve.
/// </summary>
public sealed partial class AdminKeySource(IHttpClientFactory clients, ApiKeyStore store, InternalSecret secret, IConfiguration configuration,
    IServiceProvider services, ILogger<AdminKeySource> logger) : BackgroundService
{
    public const string HttpClientName = "admin-keys";
    private static readonly TimeSpan SafetyNet = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (services.GetService<IConnectionMultiplexer>() is { } redis)
        {
            var channel = RedisChannel.Literal((configuration["REDIS_KEY_PREFIX"] is { Length: > 0 } prefix ? prefix : "flowith2api:") + "changes");
            await redis.GetSubscriber().SubscribeAsync(channel, (changed, what) =>
            {
                if (what == "keys")
                {
                    _ = ReloadAsync(CancellationToken.None);
                }
            });
        }

        using var timer = new PeriodicTimer(SafetyNet);
        do
        {
            await ReloadAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "http://admin-service/internal/keys");
            if (secret.Value is { } value)
            {
                request.Headers.TryAddWithoutValidation(InternalHeaders.Secret, value);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            response.EnsureSuccessStatusCode();
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), default, timeout.Token);
            store.Replace(document.RootElement.GetProperty("keys").EnumerateArray().Select(k => (
                k.GetProperty("hash").GetString() ?? "",
                k.GetProperty("name").GetString() ?? "",
                k.GetProperty("is_admin").GetBoolean(),
                k.GetProperty("enabled").GetBoolean(),
                k.TryGetProperty("rate_limit_per_minute", out var limit) ? limit.GetInt32() : (int?)null)));
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
            or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(logger, e.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The admin service's keys could not be read ({ExceptionType}); keeping the keys known so far")]
    private static partial void LogUnreachable(ILogger logger, string exceptionType);
}
