using Microsoft.EntityFrameworkCore;

namespace Flowith2Api.AdminService.Data;

/// <summary>A Flowith credential: its value encrypted at rest, found by its hash, with its health and use counts.</summary>
public sealed class CredentialEntity
{
    public long Id { get; set; }

    /// <summary>SHA-256 of the value, hex: how a credential is found without decrypting anything.</summary>
    public required string Hash { get; set; }

    /// <summary>AES-GCM: nonce, ciphertext and tag.</summary>
    public required byte[] EncryptedValue { get; set; }

    /// <summary>The masked form shown in lists (<c>flo…a1b2</c>).</summary>
    public required string Masked { get; set; }

    public string? Label { get; set; }

    public CredentialStateValue State { get; set; } = CredentialStateValue.Enabled;

    /// <summary>Taken out of rotation by an admin: not served to the pool (nor probed) until an admin enables it again.</summary>
    public bool AdminDisabled { get; set; }

    public string? Reason { get; set; }

    public long UseCount { get; set; }

    public long FailureCount { get; set; }

    public DateTimeOffset? LastUsed { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset Created { get; set; }

    /// <summary>A deleted credential is kept as a tombstone so seeding from the environment does not bring it back.</summary>
    public DateTimeOffset? Deleted { get; set; }
}

public enum CredentialStateValue
{
    Enabled,
    Disabled,
    Cooling,
}

/// <summary>A client API key: only its hash is stored.</summary>
public sealed class ApiKeyEntity
{
    public long Id { get; set; }

    public required string Hash { get; set; }

    public required string Name { get; set; }

    public required string Masked { get; set; }

    public bool IsAdmin { get; set; }

    public int? RateLimitPerMinute { get; set; }

    public bool Enabled { get; set; } = true;

    public DateTimeOffset Created { get; set; }

    /// <summary>A deleted key is kept as a tombstone so seeding from the environment does not bring it back.</summary>
    public DateTimeOffset? Deleted { get; set; }
}

/// <summary>A runtime setting changed through <c>PATCH /v1/admin/config</c>; wins over the environment.</summary>
public sealed class ConfigOverrideEntity
{
    public required string Key { get; set; }

    public required string ValueJson { get; set; }

    public DateTimeOffset Updated { get; set; }
}

/// <summary>A periodic snapshot of the cluster-wide counters, so statistics outlive Redis and show a history.</summary>
public sealed class StatsRollupEntity
{
    public long Id { get; set; }

    public DateTimeOffset Taken { get; set; }

    /// <summary>The counters at that moment, as a JSON object (name → count).</summary>
    public required string CountersJson { get; set; }
}

/// <summary>
/// A signed-in web console session: only the hash of its cookie token is stored, with the hash of the admin key that
/// signed in (the session ends when that key is deleted, disabled or loses its admin flag).
/// </summary>
public sealed class ConsoleSessionEntity
{
    public long Id { get; set; }

    public required string TokenHash { get; set; }

    public required string KeyHash { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }
}

/// <summary>The AdminService's durable state: the same model on PostgreSQL and SQLite.</summary>
public abstract class AdminDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<CredentialEntity> Credentials => Set<CredentialEntity>();

    public DbSet<ApiKeyEntity> ApiKeys => Set<ApiKeyEntity>();

    public DbSet<ConfigOverrideEntity> ConfigOverrides => Set<ConfigOverrideEntity>();

    public DbSet<StatsRollupEntity> StatsRollups => Set<StatsRollupEntity>();

    public DbSet<ConsoleSessionEntity> ConsoleSessions => Set<ConsoleSessionEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<CredentialEntity>(entity =>
        {
            entity.ToTable("credentials");
            entity.HasIndex(c => c.Hash).IsUnique();
            entity.Property(c => c.Hash).HasMaxLength(64);
            entity.Property(c => c.Masked).HasMaxLength(32);
            entity.Property(c => c.Label).HasMaxLength(200);
            entity.Property(c => c.State).HasConversion<string>().HasMaxLength(16);
            entity.Property(c => c.Reason).HasMaxLength(1000);
            entity.Property(c => c.LastError).HasMaxLength(1000);
        });
        modelBuilder.Entity<ApiKeyEntity>(entity =>
        {
            entity.ToTable("api_keys");
            entity.HasIndex(k => k.Hash).IsUnique();
            entity.Property(k => k.Hash).HasMaxLength(64);
            entity.Property(k => k.Name).HasMaxLength(200);
            entity.Property(k => k.Masked).HasMaxLength(32);
        });
        modelBuilder.Entity<StatsRollupEntity>(entity =>
        {
            entity.ToTable("stats_rollups");
            entity.HasIndex(r => r.Taken);
        });
        modelBuilder.Entity<ConsoleSessionEntity>(entity =>
        {
            entity.ToTable("console_sessions");
            entity.HasIndex(c => c.TokenHash).IsUnique();
            entity.Property(c => c.TokenHash).HasMaxLength(64);
            entity.Property(c => c.KeyHash).HasMaxLength(64);
            entity.HasIndex(c => c.Expires);
        });
        modelBuilder.Entity<ConfigOverrideEntity>(entity =>
        {
            entity.ToTable("config_overrides");
            entity.HasKey(c => c.Key);
            entity.Property(c => c.Key).HasMaxLength(100);
        });
    }
}

/// <summary>PostgreSQL (the composition's store), with its own migrations.</summary>
public sealed class PostgresAdminDbContext(DbContextOptions<PostgresAdminDbContext> options) : AdminDbContext(options);

/// <summary>SQLite (a single box without PostgreSQL), with its own migrations.</summary>
public sealed class SqliteAdminDbContext(DbContextOptions<SqliteAdminDbContext> options) : AdminDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset natively: store it as UTC ticks.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter>();
    }
}
