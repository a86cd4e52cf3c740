using System.Globalization;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// What the operating system lets this process hold. Every open connection costs a file descriptor; a service that
/// runs out of them cannot even accept a connection to refuse it, so connection limits are sized from this budget.
/// </summary>
public static class ProcessLimits
{
    /// <summary>Descriptors kept back for everything that is not a client connection: logs, Redis, databases, assemblies.</summary>
    public const int ReservedDescriptors = 512;

    private static readonly Lazy<long?> OpenFiles = new(ReadOpenFileLimit);

    /// <summary>The soft limit on open files (RLIMIT_NOFILE), or null where it is unknown or unlimited.</summary>
    public static long? OpenFileLimit => OpenFiles.Value;

    /// <summary>
    /// How many sockets of one kind (client connections, upstream connections) a service may hold: the descriptor budget
    /// minus the reserve, or null (no limit) where the budget is unknown.
    /// </summary>
    public static int? ConnectionBudget => OpenFileLimit is { } limit
        ? (int)Math.Clamp(limit - ReservedDescriptors, 64, int.MaxValue)
        : null;

    /// <summary>Parses the "Max open files" row of a /proc/&lt;pid&gt;/limits table.</summary>
    public static long? ParseOpenFileLimit(IEnumerable<string> limitsTable)
    {
        foreach (var line in limitsTable)
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                continue;
            }

            var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : null;
        }

        return null;
    }

    private static long? ReadOpenFileLimit()
    {
        try
        {
            return OperatingSystem.IsLinux() ? ParseOpenFileLimit(File.ReadLines("/proc/self/limits")) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
