using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Flowith2Api.AdminService.Data;

/// <summary>For <c>dotnet ef migrations add … --context PostgresAdminDbContext</c>: no database is contacted.</summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresAdminDbContext>
{
    public PostgresAdminDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresAdminDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}

/// <summary>For <c>dotnet ef migrations add … --context SqliteAdminDbContext</c>.</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteAdminDbContext>
{
    public SqliteAdminDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteAdminDbContext>().UseSqlite("Data Source=design.db").Options);
}
