using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// Redis, configured in one place for every service: <c>ConnectionStrings:redis</c> (what the AppHost hands over) or
/// the original project's <c>REDIS_URL</c> (<c>redis://[:password@]host:port</c> or StackExchange.Redis syntax), through
/// Aspire's client integration (one multiplexer per process, its logs). No connection string: no Redis (embedded
/// mode). A service starts while Redis is away and reconnects when it returns; ServiceDefaults traces its commands.
/// </summary>
public static class RedisConnection
{
    public const string Name = "redis";

    /// <summary>The configured connection string in StackExchange.Redis syntax, or null.</summary>
    public static string? ConnectionStringOf(IConfiguration configuration)
    {
        var value = configuration.GetConnectionString(Name) is { Length: > 0 } named ? named : configuration[SeedSettings.RedisUrl];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (!value.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            return value;
        }

        var uri = new Uri(value);
        var parts = new List<string> { uri.Authority[(uri.Authority.LastIndexOf('@') + 1)..] };
        var password = Uri.UnescapeDataString(uri.UserInfo.Contains(':', StringComparison.Ordinal) ? uri.UserInfo[(uri.UserInfo.IndexOf(':', StringComparison.Ordinal) + 1)..] : uri.UserInfo);
        if (password.Length > 0)
        {
            parts.Add("password=" + password);
        }

        if (uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase))
        {
            parts.Add("ssl=true");
        }

        if (int.TryParse(uri.AbsolutePath.Trim('/'), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var database))
        {
            parts.Add("defaultDatabase=" + database);
        }

        return string.Join(',', parts);
    }

    /// <summary>Registers the process's <see cref="IConnectionMultiplexer"/> when Redis is configured; false when it is not.</summary>
    public static bool AddRedisWhenConfigured(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(service => service.ServiceType == typeof(IConnectionMultiplexer)))
        {
            return true;
        }

        if (ConnectionStringOf(builder.Configuration) is not { } connectionString)
        {
            return false;
        }

        builder.AddRedisClient(Name, settings =>
        {
            settings.ConnectionString = connectionString;
            settings.DisableHealthChecks = true; // each service decides what Redis means for its health (a blip must not take every replica out)
            settings.DisableTracing = true; // traced with every other source in ConfigureOpenTelemetry
        }, options => options.AbortOnConnectFail = false);
        return true;
    }
}
