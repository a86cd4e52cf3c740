using Flowith2Api.Contracts;
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
/// of change is announced, at start, and every 30 s as a safety net. Without Redis (embedded mode) the AdminService's
/// change counters (<see cref="AdminChangeVersions"/>) are read once a second instead of the announcements.
/// </summary>
public sealed partial class AdminChanges(IEnumerable<IAdminStateCache> caches, IConfiguration configuration, IServiceProvider services,
    ILogger<AdminChanges> logger) : BackgroundService
{
    private static readonly TimeSpan SafetyNet = TimeSpan.FromSeconds(30);
    private readonly IReadOnlyList<IAdminStateCache> _caches = [.. caches];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var redis = services.GetService<IConnectionMultiplexer>();
        if (redis is not null)
        {
            var channel = RedisChannel.Literal(RedisLayout.ChangesChannel(configuration));
            await redis.GetSubscriber().SubscribeAsync(channel, (changed, what) => _ = ReloadAsync((string?)what, CancellationToken.None));
        }

        var following = redis is null && services.GetService<AdminClient>() is { } admin && AdminClient.AdminServiceUri(configuration) is not null
            ? FollowVersionsAsync(admin, stoppingToken)
            : Task.CompletedTask;
        await Task.WhenAll(SafetyNetAsync(stoppingToken), following);
    }

    /// <summary>Everything reloads at start and every <see cref="SafetyNet"/>, whatever was announced.</summary>
    private async Task SafetyNetAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SafetyNet);
        do
        {
            await ReloadAsync(kind: null, stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Embedded mode: reloads each kind whose counter moved since the last look (all of them after an AdminService restart).</summary>
    private async Task FollowVersionsAsync(AdminClient admin, CancellationToken stoppingToken)
    {
        AdminChangeVersions? known = null;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                using var response = await admin.SendAsync(HttpMethod.Get, AdminChangeVersions.Path, content: null, stoppingToken);
                response.EnsureSuccessStatusCode();
                var current = System.Text.Json.JsonSerializer.Deserialize(await response.Content.ReadAsStreamAsync(stoppingToken),
                    AdminChangeVersionsJsonContext.Default.AdminChangeVersions);
                if (current is null)
                {
                    continue;
                }

                // The first look compares with nothing: a change made since the start's reload is not missed.
                known ??= new AdminChangeVersions(current.Epoch, []);
                if (known.Epoch != current.Epoch)
                {
                    await ReloadAsync(kind: null, stoppingToken); // the AdminService restarted: counting began again
                }
                else
                {
                    foreach (var kind in current.Moved(known))
                    {
                        await ReloadAsync(kind, stoppingToken);
                    }
                }

                known = current;
            }
            catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException || (e is OperationCanceledException && !stoppingToken.IsCancellationRequested))
            {
                LogUnreachable(logger, e.GetType().Name);
            }
        }
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
