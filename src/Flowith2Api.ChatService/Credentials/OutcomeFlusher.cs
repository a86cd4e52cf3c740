namespace Flowith2Api.ChatService.Credentials;

/// <summary>Sends the credentials' counted outcomes to the AdminService every few seconds.</summary>
public sealed class OutcomeFlusher(AdminCredentialSource source) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await source.FlushOutcomesAsync(stoppingToken);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await source.FlushOutcomesAsync(cancellationToken); // what was counted last is not lost at shutdown
    }
}
