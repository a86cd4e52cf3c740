using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Configuration;

namespace Flowith2Api.AppHost;

/// <summary>The AppHost's own switches: the fake upstream, the public port, where infrastructure comes from.</summary>
public sealed class AppHostSettings
{
    public const string FakeUpstreamSwitch = "--fake-upstream";

    public bool FakeUpstream { get; private set; }

    /// <summary>The gateway's public port: <c>PORT</c> [8787].</summary>
    public int GatewayPort { get; private set; } = 8787;

    /// <summary><c>INFRASTRUCTURE</c>: auto (default), containers, local, embedded.</summary>
    public string InfrastructureMode { get; private set; } = "auto";

    /// <summary>Where local Redis and PostgreSQL keep their data: <c>DATA_DIR</c> [./data under the repository].</summary>
    public string? DataDirectory { get; private set; }

    /// <summary>The data directory: <c>DATA_DIR</c>, else <c>./data</c> at the repository root.</summary>
    public string ResolveDataDirectory(string appHostDirectory) =>
        Path.GetFullPath(DataDirectory ?? Path.Combine(appHostDirectory, "..", "..", "data"));

    /// <summary>Takes the bare <c>--fake-upstream</c> switch out of the arguments (the configuration parser wants key=value).</summary>
    public static AppHostSettings FromArgs(ref string[] args)
    {
        var settings = new AppHostSettings();
        if (args.Contains(FakeUpstreamSwitch, StringComparer.OrdinalIgnoreCase))
        {
            settings.FakeUpstream = true;
            args = [.. args.Where(a => !string.Equals(a, FakeUpstreamSwitch, StringComparison.OrdinalIgnoreCase))];
        }

        return settings;
    }

    public void ReadConfiguration(IConfiguration configuration)
    {
        FakeUpstream |= SeedSettings.ParseBool(configuration["FAKE_UPSTREAM"] ?? configuration["FakeUpstream"], false);
        if (int.TryParse(configuration[SeedSettings.Port], out var port) && port is > 0 and < 65536)
        {
            GatewayPort = port;
        }

        InfrastructureMode = (configuration["INFRASTRUCTURE"] ?? "auto").Trim().ToLowerInvariant();
        DataDirectory = configuration["DATA_DIR"];
    }
}
