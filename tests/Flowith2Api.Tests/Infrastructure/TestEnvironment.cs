using System.Net;
using System.Net.Sockets;

namespace Flowith2Api.Tests.Infrastructure;

/// <summary>Where the repository is and a free loopback port: what the fixtures that start real processes need.</summary>
public static class TestEnvironment
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Flowith2Api.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Flowith2Api.sln not found above the test binaries.");
    });

    /// <summary>The folder holding Flowith2Api.sln.</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>The build configuration these tests were built in (Debug or Release).</summary>
    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
