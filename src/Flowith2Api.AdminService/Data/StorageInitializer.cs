using Flowith2Api.ServiceDefaults;
using Microsoft.EntityFrameworkCore;

namespace Flowith2Api.AdminService.Data;

/// <summary>
/// Before the service answers: applies the migrations, then imports <c>FLOWITH_AUTH_TOKENS</c> without resurrecting
/// credentials an admin deleted — unless <c>RSYNC=1</c>, which makes the environment the full truth.
/// </summary>
public sealed partial class StorageInitializer(IServiceProvider services, IConfiguration configuration, TimeProvider time,
    ILogger<StorageInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AdminDbContext>();
        await db.Database.MigrateAsync(cancellationToken);

        var protector = scope.ServiceProvider.GetRequiredService<SecretProtector>();
        var tokens = SeedSettings.SplitList(configuration[SeedSettings.FlowithAuthTokens]);
        var rsync = SeedSettings.ParseBool(configuration[SeedSettings.Rsync], false);
        var now = time.GetUtcNow();
        var wanted = tokens.ToDictionary(SecretProtector.Hash, t => t);
        var existing = await db.Credentials.ToDictionaryAsync(c => c.Hash, cancellationToken);
        int added = 0, skipped = 0, removed = 0;
        foreach (var (hash, value) in wanted)
        {
            if (!existing.TryGetValue(hash, out var credential))
            {
                db.Credentials.Add(new CredentialEntity { Hash = hash, EncryptedValue = protector.Protect(value), Masked = SecretProtector.Mask(value), Created = now });
                added++;
            }
            else if (credential.Deleted is not null)
            {
                if (rsync)
                {
                    credential.Deleted = null;
                    added++;
                }
                else
                {
                    skipped++;
                }
            }
        }

        if (rsync)
        {
            foreach (var credential in existing.Values.Where(c => c.Deleted is null && !wanted.ContainsKey(c.Hash)))
            {
                credential.Deleted = now;
                removed++;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        LogSeeded(logger, added, skipped, removed, rsync);
        await SeedKeysAsync(db, rsync, now, cancellationToken);
    }

    /// <summary><c>API_KEYS</c> and <c>ADMIN_KEY</c> [the first API key] become named keys, with the same tombstone rule.</summary>
    private async Task SeedKeysAsync(AdminDbContext db, bool rsync, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var apiKeys = SeedSettings.SplitList(configuration[SeedSettings.ApiKeys]);
        var adminKey = SeedSettings.AdminKeyOf(configuration);
        var wanted = new Dictionary<string, (string Value, string Name, bool Admin)>();
        for (var i = 0; i < apiKeys.Count; i++)
        {
            wanted[SecretProtector.Hash(apiKeys[i])] = (apiKeys[i], apiKeys[i] == adminKey ? "admin" : $"api-key-{i + 1}", apiKeys[i] == adminKey);
        }

        if (adminKey is not null)
        {
            wanted[SecretProtector.Hash(adminKey)] = (adminKey, "admin", true);
        }

        var existing = await db.ApiKeys.ToDictionaryAsync(k => k.Hash, cancellationToken);
        foreach (var (hash, (value, name, admin)) in wanted)
        {
            if (!existing.TryGetValue(hash, out var key))
            {
                db.ApiKeys.Add(new ApiKeyEntity { Hash = hash, Name = name, Masked = SecretProtector.Mask(value), IsAdmin = admin, Created = now });
            }
            else
            {
                if (key.Deleted is not null && rsync)
                {
                    key.Deleted = null;
                }

                // The environment decides which of its keys is the admin key.
                key.IsAdmin = admin;
            }
        }

        if (rsync)
        {
            foreach (var key in existing.Values.Where(k => k.Deleted is null && !wanted.ContainsKey(k.Hash)))
            {
                key.Deleted = now;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        // A console session lives only as long as its key stays a live, enabled admin key.
        await db.ConsoleSessions.Where(s => !db.ApiKeys.Any(k => k.Hash == s.KeyHash && k.IsAdmin && k.Enabled && k.Deleted == null))
            .ExecuteDeleteAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Credentials from the environment: {Added} added, {Skipped} deleted by an admin and left out, {Removed} removed (RSYNC={Rsync})")]
    private static partial void LogSeeded(ILogger logger, int added, int skipped, int removed, bool rsync);
}
