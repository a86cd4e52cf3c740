using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// Graceful shutdown. On SIGTERM the service first reports not ready (<c>/health</c> answers 503 so a load balancer
/// stops sending), keeps serving for <c>SHUTDOWN_DELAY_SECONDS</c> while it notices, then stops accepting
/// connections and lets open requests and streams finish for up to <c>SHUTDOWN_DRAIN_SECONDS</c>. Streams still open
/// after that are ended by their owners with a proper final event (<see cref="Expired"/>), never cut.
/// </summary>
public sealed class ShutdownDrain : IHostedLifecycleService, IDisposable
{
    public const string DrainSecondsSetting = "SHUTDOWN_DRAIN_SECONDS";
    public const string DelaySecondsSetting = "SHUTDOWN_DELAY_SECONDS";

    /// <summary>Extra time the host gives itself after the drain, to write the final events and close.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _expired = new();
    private readonly CancellationTokenRegistration _stopping;
    private volatile bool _isStopping;

    public ShutdownDrain(IHostApplicationLifetime lifetime, IConfiguration configuration)
    {
        DrainTime = ReadSeconds(configuration, DrainSecondsSetting, 30);
        Delay = ReadSeconds(configuration, DelaySecondsSetting, 0);
        _stopping = lifetime.ApplicationStopping.Register(static state =>
        {
            var drain = (ShutdownDrain)state!;
            drain._isStopping = true;
            drain._expired.CancelAfter(drain.Delay + drain.DrainTime);
        }, this);
    }

    public TimeSpan DrainTime { get; }

    public TimeSpan Delay { get; }

    /// <summary>True from the moment shutdown began.</summary>
    public bool IsStopping => _isStopping;

    /// <summary>Cancelled when the drain time has run out: whatever is still streaming ends now, properly.</summary>
    public CancellationToken Expired => _expired.Token;

    public static TimeSpan ReadSeconds(IConfiguration configuration, string name, int defaultSeconds) =>
        TimeSpan.FromSeconds(double.TryParse(configuration[name], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? seconds
            : defaultSeconds);

    /// <summary>Runs before the server stops listening: the delay in which load balancers see the 503 and stop sending.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) =>
        Delay > TimeSpan.Zero ? Task.Delay(Delay, CancellationToken.None) : Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _stopping.Dispose();
        _expired.Dispose();
    }
}

/// <summary>Readiness: unhealthy from the moment shutdown began.</summary>
public sealed class DrainingHealthCheck(ShutdownDrain drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(drain.IsStopping ? HealthCheckResult.Unhealthy("Shutting down: draining open requests.") : HealthCheckResult.Healthy());
}
