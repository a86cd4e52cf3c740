using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Credentials;

/// <summary>
/// Brings disabled credentials back: every <c>CREDENTIAL_PROBE_INTERVAL_SECONDS</c> one replica (a Redis lock decides
/// which) asks the upstream's cheap model list with each disabled credential and re-enables those that work again.
/// </summary>
public sealed partial class CredentialProbeService(ICredentialPool pool, ICredentialSource source, ICredentialStateStore store,
    FlowithClient flowith, IOptions<PoolOptions> options, ILogger<CredentialProbeService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.ProbeInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await ProbeOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogProbeFailed(logger, e.GetType().Name);
            }
        }
    }

    /// <summary>Probes every disabled credential once; returns how many came back.</summary>
    public async Task<int> ProbeOnceAsync(CancellationToken cancellationToken)
    {
        var turn = options.Value.ProbeInterval > TimeSpan.FromSeconds(2) ? options.Value.ProbeInterval * 0.8 : TimeSpan.FromSeconds(1);
        if (!await store.TryTakeProbeTurnAsync(turn))
        {
            return 0;
        }

        var revived = 0;
        var byId = source.Current.ToDictionary(c => c.Id);
        foreach (var status in await pool.StatusesAsync())
        {
            if (status.State != CredentialState.Disabled || !byId.TryGetValue(status.Id, out var credential))
            {
                continue;
            }

            try
            {
                await flowith.ListModelsAsync(credential.Value, cancellationToken);
                await pool.EnableAsync(credential.Id, "probe succeeded");
                LogRevived(logger, credential.Masked);
                revived++;
            }
            catch (UpstreamException e)
            {
                LogStillDisabled(logger, credential.Masked, e.Kind);
            }
        }

        return revived;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Credential {Credential} answers again: re-enabled by the probe")]
    private static partial void LogRevived(ILogger logger, string credential);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Credential {Credential} is still failing ({Kind})")]
    private static partial void LogStillDisabled(ILogger logger, string credential, UpstreamFailureKind kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The credential probe failed: {ExceptionType}")]
    private static partial void LogProbeFailed(ILogger logger, string exceptionType);
}
