using System.Text.Json;
using Flowith2Api.Contracts;
using StackExchange.Redis;

namespace Flowith2Api.AdminService.Data;

/// <summary>
/// Every <c>STATS_ROLLUP_SECONDS</c> [300] one AdminService replica copies the cluster-wide counters from Redis into
/// <c>stats_rollups</c>, so statistics have a durable history (<c>GET /v1/admin/stats/history</c>); without Redis, the
/// single AdminService copies its in-process counters.
/// </summary>
public sealed partial class StatsRollup(IServiceProvider services, IConfiguration configuration, TimeProvider time, ILogger<StatsRollup> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var redis = services.GetService<IConnectionMultiplexer>();
        var seconds = int.TryParse(configuration["STATS_ROLLUP_SECONDS"], out var s) && s > 0 ? s : 300;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (redis is not null)
                {
                    await RollUpAsync(redis, TimeSpan.FromSeconds(seconds), stoppingToken);
                }
                else if (services.GetService<LocalStats>() is { } local)
                {
                    await SaveAsync(local.Snapshot(time.GetUtcNow()).Counters, stoppingToken);
                }
            }
            catch (Exception e) when (e is RedisException or Microsoft.EntityFrameworkCore.DbUpdateException)
            {
                LogFailed(logger, e.GetType().Name);
            }
        }
    }

    public async Task RollUpAsync(IConnectionMultiplexer redis, TimeSpan period, CancellationToken cancellationToken)
    {
        var prefix = RedisLayout.Prefix(configuration);
        var database = redis.GetDatabase();
        // One replica a period.
        if (!await database.StringSetAsync(prefix + "stats:rollup-lock", Environment.ProcessId, period * 0.9, When.NotExists))
        {
            return;
        }

        var counters = (await database.HashGetAllAsync(StatsKeys.Counters(prefix))).ToDictionary(e => (string)e.Name!, e => (long)e.Value);
        await SaveAsync(counters, cancellationToken);
    }

    private async Task SaveAsync(Dictionary<string, long> counters, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AdminDbContext>();
        db.StatsRollups.Add(new StatsRollupEntity
        {
            Taken = time.GetUtcNow(),
            CountersJson = JsonSerializer.Serialize(counters, RollupJsonContext.Default.DictionaryStringInt64),
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The statistics roll-up failed ({ExceptionType}); it runs again next period")]
    private static partial void LogFailed(ILogger logger, string exceptionType);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, long>))]
internal sealed partial class RollupJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
