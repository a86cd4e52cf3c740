using StackExchange.Redis;

namespace Flowith2Api.AdminService.Data;

/// <summary>
/// Tells every replica of every service that durable state changed (Redis pub/sub on <c>{prefix}changes</c>), so
/// caches refresh within a second; without Redis there is nobody else to tell.
/// </summary>
public sealed class ChangeNotifier(IServiceProvider services, IConfiguration configuration)
{
    public const string Credentials = "credentials";

    public static string Channel(IConfiguration configuration) =>
        (configuration["REDIS_KEY_PREFIX"] is { Length: > 0 } prefix ? prefix : "flowith2api:") + "changes";

    public async Task PublishAsync(string what)
    {
        if (services.GetService<IConnectionMultiplexer>() is { } redis)
        {
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(Channel(configuration)), what);
        }
    }
}
