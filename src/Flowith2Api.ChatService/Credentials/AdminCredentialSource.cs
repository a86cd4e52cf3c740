using System.Text.Json;
using System.Text.Json.Serialization;
using Flowith2Api.ServiceDefaults;
using StackExchange.Redis;

namespace Flowith2Api.ChatService.Credentials;

/// <summary>Told when the upstream rejects a credential, so the rejection persists where credentials are kept.</summary>
public interface ICredentialOutcomeReporter
{
    Task ReportDisabledAsync(Credential credential, string reason);
}

/// <summary>
/// The pool's members as the AdminService keeps them: loaded at start, reloaded within a second of any change (Redis
/// pub/sub) and every 30 s as a safety net. Until the AdminService has answered once, the environment's
/// <c>FLOWITH_AUTH_TOKENS</c> serve, so the service never starts empty-handed.
/// </summary>
public sealed partial class AdminCredentialSource(HttpClient http, InternalSecret secret, IConfiguration configuration, IServiceProvider services,
    ILogger<AdminCredentialSource> logger) : BackgroundService, ICredentialSource, ICredentialOutcomeReporter
{
    public const string AdminServiceUrlKey = "services:admin-service:http:0";
    private static readonly TimeSpan SafetyNet = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile IReadOnlyList<Credential> _current = new EnvironmentCredentialSource(configuration).Current;

    public IReadOnlyList<Credential> Current => _current;

    /// <summary>True once the AdminService's list is in use.</summary>
    public bool Loaded { get; private set; }

    public static Uri? AdminServiceUri(IConfiguration configuration) =>
        Uri.TryCreate(configuration["ADMIN_SERVICE_URL"] ?? configuration[AdminServiceUrlKey], UriKind.Absolute, out var uri) ? uri : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (services.GetService<IConnectionMultiplexer>() is { } redis)
        {
            var channel = RedisChannel.Literal((configuration["REDIS_KEY_PREFIX"] is { Length: > 0 } prefix ? prefix : "flowith2api:") + "changes");
            await redis.GetSubscriber().SubscribeAsync(channel, (changedChannel, what) =>
            {
                if (what == "credentials")
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
        await _reload.WaitAsync(cancellationToken);
        try
        {
            using var request = Request(HttpMethod.Get, "/internal/credentials");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var response = await http.SendAsync(request, timeout.Token);
            response.EnsureSuccessStatusCode();
            var list = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(timeout.Token),
                AdminCredentialsJsonContext.Default.AdminCredentialList, timeout.Token);
            _current = [.. (list?.Credentials ?? []).Where(c => !string.IsNullOrEmpty(c.Value)).Select(c => new Credential(c.Value!))];
            Loaded = true;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(logger, e.GetType().Name);
        }
        finally
        {
            _reload.Release();
        }
    }

    public async Task ReportDisabledAsync(Credential credential, string reason)
    {
        try
        {
            using var request = Request(HttpMethod.Post, $"/internal/credentials/{credential.Id}/disabled");
            request.Content = new StringContent(JsonSerializer.Serialize(new AdminDisabledReport(Redaction.Redact(reason, credential.Value)),
                AdminCredentialsJsonContext.Default.AdminDisabledReport), System.Text.Encoding.UTF8, "application/json");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            using var response = await http.SendAsync(request, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            LogUnreachable(logger, e.GetType().Name);
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(AdminServiceUri(configuration) ?? new Uri("http://admin-service"), path));
        if (secret.Value is { } value)
        {
            request.Headers.TryAddWithoutValidation(InternalHeaders.Secret, value);
        }

        return request;
    }

    public override void Dispose()
    {
        _reload.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The admin service could not be reached ({ExceptionType}); keeping the credentials known so far")]
    private static partial void LogUnreachable(ILogger logger, string exceptionType);
}

public sealed class AdminCredentialList
{
    [JsonPropertyName("credentials")] public List<AdminCredential>? Credentials { get; set; }
}

public sealed class AdminCredential
{
    [JsonPropertyName("value")] public string? Value { get; set; }
    [JsonPropertyName("state")] public string? State { get; set; }
}

public sealed record AdminDisabledReport([property: JsonPropertyName("reason")] string Reason);

[JsonSerializable(typeof(AdminCredentialList))]
[JsonSerializable(typeof(AdminDisabledReport))]
internal sealed partial class AdminCredentialsJsonContext : JsonSerializerContext;
