namespace Flowith2Api.AppHost.Infrastructure;

/// <summary>Finds a locally installed redis-server and PostgreSQL server (Debian: /usr/lib/postgresql/N/bin).</summary>
public sealed record LocalBinaries(string RedisServer, string PostgresBin)
{
    public static LocalBinaries? Find()
    {
        var redis = OnPath("redis-server");
        var postgres = PostgresBinDirectory();
        return redis is not null && postgres is not null ? new LocalBinaries(redis, postgres) : null;
    }

    public static string? OnPath(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>A directory holding postgres, initdb, pg_isready and psql: Debian's newest first, then PATH.</summary>
    public static string? PostgresBinDirectory()
    {
        const string debianRoot = "/usr/lib/postgresql";
        var candidates = Directory.Exists(debianRoot)
            ? Directory.GetDirectories(debianRoot)
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin"))
            : [];
        if (OnPath("postgres") is { } onPath)
        {
            candidates = candidates.Append(Path.GetDirectoryName(onPath)!);
        }

        return candidates.FirstOrDefault(d => RequiredTools.All(tool => File.Exists(Path.Combine(d, tool))));
    }

    private static readonly string[] RequiredTools = ["postgres", "initdb", "pg_isready", "psql"];
}
