using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Flowith2Api.ServiceDefaults;

/// <summary>A cache of admin state (credentials, config) that reloads when its kind of change is announced.</summary>
public interface IAdminStateCache
{
    string Kind { get; }

    Task ReloadAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The AdminService's change notifications (Redis pub/sub on <c>{prefix}changes</c>): each cache reloads when its kind
/// of change is announced, at start, and every 30 s as a safety net.
/// </summary>
public sealed partial class AdminChanges(IEnumerable<IAdminStateCache> caches, IConfiguration configuration, IServiceProvider services,
    ILogger<AdminChanges> logger) : BackgroundService
{
    private static readonly TimeSpan SafetyNet = TimeSpan.FromSeconds(30);
    private readonly IReadOnlyList<IAdminStateCache> _caches = [.. caches];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (services.GetService<IConnectionMultiplexer>() is { } redis)
        {
            var channel = RedisChannel.Literal((configuration["REDIS_KEY_PREFIX"] is { Length: > 0 } prefix ? prefix : "flowith2api:") + "changes");
            await redis.GetSubscriber().SubscribeAsync(channel, (changed, what) => _ = ReloadAsync((string?)what, CancellationToken.None));
        }

        using var timer = new PeriodicTimer(SafetyNet);
        do
        {
            await ReloadAsync(kind: null, stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>How often, and after how long, a failed reload is tried again before the safety net's next round.</summary>
    private static readonly TimeSpan[] Retries = [TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(750), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    /// <summary>
    /// Runs the reloads of one kind of change (all of them when <paramref name="kind"/> is null). A reload that fails (the
    /// AdminService busy or restarting) is tried again within seconds, so a change — a key deleted or disabled — is not
    /// left to the 30-second safety net.
    /// </summary>
    public async Task ReloadAsync(string? kind, CancellationToken cancellationToken)
    {
        foreach (var cache in _caches.Where(c => kind is null || c.Kind == kind))
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await cache.ReloadAsync(cancellationToken);
                    break;
                }
                catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    LogUnreachable(logger, e.GetType().Name);
                    if (attempt >= Retries.Length)
                    {
                        break;
                    }

                    await Task.Delay(Retries[attempt], cancellationToken);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The admin service could not be reached ({ExceptionType}); keeping what is known so far")]
    private static partial void LogUnreachable(ILogger logger, string exceptionType);
}

/// <summary>The AdminService's internal door (credentials, config), with the internal secret on every call.</summary>
public sealed class AdminClient(HttpClient http, InternalSecret secret, IConfiguration configuration)
{
    public const string HttpClientName = "admin-service";

    public static Uri? AdminServiceUri(IConfiguration configuration) =>
        Uri.TryCreate(configuration["ADMIN_SERVICE_URL"] ?? configuration["services:admin-service:http:0"], UriKind.Absolute, out var uri) ? uri : null;

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(AdminServiceUri(configuration) ?? new Uri("http://admin-service"), path)) { Content = content };
        if (secret.Value is { } value)
        {
            request.Headers.TryAddWithoutValidation(InternalHeaders.Secret, value);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        return await http.SendAsync(request, timeout.Token);
    }
}
