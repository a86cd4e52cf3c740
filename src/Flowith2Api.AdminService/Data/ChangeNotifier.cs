using System.Collections.Concurrent;
using Flowith2Api.Contracts;
using StackExchange.Redis;

namespace Flowith2Api.AdminService.Data;

/// <summary>
/// Tells every replica of every service that durable state changed (Redis pub/sub on <c>{prefix}changes</c>), so
/// caches refresh within a second. Without Redis (embedded mode) each kind of change also counts up here, and the
/// services ask <see cref="AdminChangeVersions.Path"/> once a second what moved.
/// </summary>
public sealed class ChangeNotifier(IServiceProvider services, IConfiguration configuration)
{
    public const string Credentials = "credentials";

    private readonly ConcurrentDictionary<string, long> _versions = new(StringComparer.Ordinal);

    /// <summary>This process's run: a restarted AdminService starts counting again, and a service that sees a new one reloads everything.</summary>
    public string Epoch { get; } = Guid.NewGuid().ToString("N");

    public IReadOnlyDictionary<string, long> Versions => _versions;

    public async Task PublishAsync(string what)
    {
        _versions.AddOrUpdate(what, 1, static (_, version) => version + 1);
        if (services.GetService<IConnectionMultiplexer>() is { } redis)
        {
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(RedisLayout.ChangesChannel(configuration)), what);
        }
    }
}
