using Flowith2Api.ServiceDefaults;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Flowith2Api.AdminService.Data;

/// <summary>
/// Where durable state lives (SPEC section 2): PostgreSQL when the <c>admindb</c> connection string is set (and
/// <c>STORAGE_TYPE</c> does not say otherwise), else SQLite at <c>SQLITE_PATH</c>/<c>DATA_PATH</c> [./data/flowith.db], or
/// an in-memory SQLite database for <c>STORAGE_TYPE=memory</c>.
/// </summary>
public static class StorageSettings
{
    public const string ConnectionName = "admindb";

    public static string DataDirectory(IConfiguration configuration) =>
        Path.GetDirectoryName(SqlitePath(configuration)) ?? Path.GetFullPath("data");

    public static string SqlitePath(IConfiguration configuration) =>
        Path.GetFullPath(configuration[SeedSettings.SqlitePath] is { Length: > 0 } sqlite ? sqlite
            : configuration[SeedSettings.DataPath] is { Length: > 0 } data ? data
            : Path.Combine("data", "flowith.db"));

    public static IServiceCollection AddAdminStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var type = configuration[SeedSettings.StorageType]?.Trim().ToLowerInvariant();
        var postgres = configuration.GetConnectionString(ConnectionName);
        if (type is null or "postgres" or "postgresql" && !string.IsNullOrWhiteSpace(postgres))
        {
            services.AddDbContext<PostgresAdminDbContext>(options => options.UseNpgsql(postgres));
            services.AddScoped<AdminDbContext>(s => s.GetRequiredService<PostgresAdminDbContext>());
            return services;
        }

        string connectionString;
        if (type == "memory")
        {
            // One open connection keeps the in-memory database alive for the process's lifetime.
            connectionString = $"Data Source=flowith2api-{Guid.NewGuid():N};Mode=Memory;Cache=Shared";
            var keeper = new SqliteConnection(connectionString);
            keeper.Open();
            services.AddSingleton(keeper);
        }
        else
        {
            var path = SqlitePath(configuration);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        }

        services.AddDbContext<SqliteAdminDbContext>(options => options.UseSqlite(connectionString));
        services.AddScoped<AdminDbContext>(s => s.GetRequiredService<SqliteAdminDbContext>());
        return services;
    }
}
