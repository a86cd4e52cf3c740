using Microsoft.Extensions.Configuration;

namespace Flowith2Api.Contracts;

/// <summary>
/// Where the services' shared state lives in Redis: every key and channel starts with <c>REDIS_KEY_PREFIX</c>
/// [<c>flowith2api:</c>], so several deployments can share one Redis.
/// </summary>
public static class RedisLayout
{
    public static string Prefix(IConfiguration configuration) =>
        configuration["REDIS_KEY_PREFIX"] is { Length: > 0 } prefix ? prefix : "flowith2api:";

    /// <summary>The pub/sub channel on which the AdminService announces what changed.</summary>
    public static string ChangesChannel(IConfiguration configuration) => Prefix(configuration) + "changes";
}
