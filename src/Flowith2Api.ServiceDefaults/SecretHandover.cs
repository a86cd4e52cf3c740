using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Win32.SafeHandles;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// Takes a process's secrets (the internal secret, connection strings, keys) out of its environment and command line,
/// where <c>/proc/self/environ</c>, <c>/proc/self/cmdline</c> and every child would show them: the process executes
/// itself again without them and is handed them in an anonymous memory file, which it reads once at start and closes.
/// </summary>
/// <remarks>
/// For a process that runs tools on behalf of users (the ToolService): whatever a tool could be tricked into reading,
/// the process's own environment no longer holds a secret. Only on Linux; elsewhere, or when the re-execution fails,
/// the process goes on as it started (and says so on standard error).
/// </remarks>
public static class SecretHandover
{
    /// <summary>The variable that tells the re-executed process which descriptor holds its secrets.</summary>
    public const string DescriptorVariable = "FLOWITH2API_SECRETS_FD";

    private const int FDupFd = 0;

    private static Dictionary<string, string?>? _received;

    /// <summary>The secrets handed over at start (configuration keys with ':'), empty when none were.</summary>
    public static IReadOnlyDictionary<string, string?> Received => _received ?? [];

    /// <summary>
    /// Call first in <c>Main</c>. In a process that holds secrets this does not return: the process is replaced by
    /// itself without them. In the replacement it reads them back (see <see cref="AddTo"/>) and returns.
    /// </summary>
    public static void SealProcess(string[] args)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        if (Environment.GetEnvironmentVariable(DescriptorVariable) is { } descriptor)
        {
            // Started to receive secrets: without them (the internal secret among them) it must not run at all.
            _received = Receive(descriptor) ?? Fail($"the secrets handed over in descriptor {descriptor} could not be read");
            Environment.SetEnvironmentVariable(DescriptorVariable, null);
            return;
        }

        var (secrets, environment, arguments) = Split(Environment.GetEnvironmentVariables(), args);
        if (secrets.Count == 0)
        {
            return;
        }

        if (ReadCommandLine() is not { } commandLine || commandLine.Count < args.Length
            || !commandLine.Skip(commandLine.Count - args.Length).SequenceEqual(args, StringComparer.Ordinal))
        {
            Warn("the command line could not be read back");
            return;
        }

        var fd = NativeMethods.MemfdCreate("flowith2api-secrets", 0); // inherited across exec on purpose
        if (fd is >= 0 and < 3)
        {
            // Started with a standard stream closed: keep the secrets off descriptors 0-2, which the new image reopens.
            var moved = NativeMethods.Fcntl(fd, FDupFd, 3);
            _ = NativeMethods.Close(fd);
            fd = moved;
        }

        if (fd < 0)
        {
            Warn($"memfd_create failed (errno {Marshal.GetLastPInvokeError()})");
            return;
        }

        using var memory = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        RandomAccess.Write(memory, JsonSerializer.SerializeToUtf8Bytes(secrets, SecretHandoverJsonContext.Default.DictionaryStringString), 0);
        environment[DescriptorVariable] = fd.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] argv = [.. commandLine.Take(commandLine.Count - args.Length), .. arguments];
        RemoveDiagnosticsSocket();
        Exec("/proc/self/exe", argv, [.. environment.Select(pair => $"{pair.Key}={pair.Value}")]);
        Warn($"execve failed (errno {Marshal.GetLastPInvokeError()})");
    }

    /// <summary>Adds the handed-over secrets to a configuration, over every other source.</summary>
    public static void AddTo(IConfigurationBuilder configuration)
    {
        if (_received is { Count: > 0 } received)
        {
            configuration.AddInMemoryCollection(received);
        }
    }

    /// <summary>
    /// Whether a setting holds a secret: the keys and credentials, the internal secret, the encryption key, tool
    /// backends' keys, every connection string and the telemetry exporter's headers (they can carry an API key).
    /// </summary>
    public static bool IsSecret(string name)
    {
        var key = ConfigurationKey(name);
        return key.StartsWith("ConnectionStrings:", StringComparison.OrdinalIgnoreCase)
            || Redaction.SecretSettingNames.Contains(key, StringComparer.OrdinalIgnoreCase)
            || OtherSecrets.Contains(key, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Secret settings beyond the ones redaction masks by value: whole connection URIs and exporter headers.</summary>
    private static readonly string[] OtherSecrets = [SeedSettings.RedisUrl, "REDIS_URI", "OTEL_EXPORTER_OTLP_HEADERS"];

    /// <summary>The environment prefixes .NET strips: the host's, and the Azure-style connection strings.</summary>
    private static readonly string[] HostPrefixes = ["DOTNET_", "ASPNETCORE_"];

    private static readonly string[] ConnectionStringPrefixes =
        ["CUSTOMCONNSTR_", "SQLCONNSTR_", "SQLAZURECONNSTR_", "MYSQLCONNSTR_", "POSTGRESQLCONNSTR_", "APIHUBCONNSTR_", "DOCDBCONNSTR_", "EVENTHUBCONNSTR_",
            "NOTIFICATIONHUBCONNSTR_", "REDISCACHECONNSTR_", "SERVICEBUSCONNSTR_"];

    /// <summary>
    /// Separates the secrets (as configuration keys) from the rest of the environment and of the arguments, which
    /// accept <c>--KEY=value</c>, <c>/KEY=value</c>, <c>KEY=value</c> and <c>--KEY value</c> as .NET's command line does.
    /// </summary>
    public static (Dictionary<string, string> Secrets, Dictionary<string, string> Environment, List<string> Arguments) Split(
        System.Collections.IDictionary environment, IReadOnlyList<string> args)
    {
        var secrets = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var rest = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in environment)
        {
            var name = (string)entry.Key;
            var value = entry.Value as string ?? "";
            if (IsSecret(name))
            {
                secrets[ConfigurationKey(name)] = value;
            }
            else
            {
                rest[name] = value;
            }
        }

        var arguments = new List<string>(args.Count);
        for (var i = 0; i < args.Count; i++)
        {
            var argument = args[i];
            var body = argument.StartsWith("--", StringComparison.Ordinal) ? argument[2..] : argument.StartsWith('/') ? argument[1..] : argument;
            var equals = body.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && IsSecret(body[..equals]))
            {
                secrets[ConfigurationKey(body[..equals])] = body[(equals + 1)..];
                continue;
            }

            if (equals < 0 && (argument.StartsWith("--", StringComparison.Ordinal) || argument.StartsWith('/')) && IsSecret(body) && i + 1 < args.Count)
            {
                secrets[ConfigurationKey(body)] = args[++i];
                continue;
            }

            arguments.Add(argument);
        }

        return (secrets, rest, arguments);
    }

    /// <summary>The configuration key a variable or argument name stands for, as .NET's providers read it.</summary>
    private static string ConfigurationKey(string name)
    {
        foreach (var prefix in ConnectionStringPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return "ConnectionStrings:" + name[prefix.Length..];
            }
        }

        foreach (var prefix in HostPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                name = name[prefix.Length..];
                break;
            }
        }

        return name.Replace("__", ":", StringComparison.Ordinal);
    }

    private static Dictionary<string, string?>? Receive(string descriptor)
    {
        if (!int.TryParse(descriptor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fd) || fd < 3)
        {
            return null;
        }

        using var memory = new SafeFileHandle((IntPtr)fd, ownsHandle: true); // closed at the end of this method
        var bytes = new byte[RandomAccess.GetLength(memory)];
        var read = 0;
        while (read < bytes.Length && RandomAccess.Read(memory, bytes.AsSpan(read), read) is var count and > 0)
        {
            read += count;
        }

        try
        {
            var secrets = JsonSerializer.Deserialize(bytes.AsSpan(0, read), SecretHandoverJsonContext.Default.DictionaryStringString);
            return secrets?.ToDictionary(pair => pair.Key, pair => (string?)pair.Value, StringComparer.OrdinalIgnoreCase);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The runtime's diagnostics socket is named after the process id and start time, which the new image keeps: the
    /// old one is removed so the new runtime can listen there (for dotnet-counters, dotnet-trace).
    /// </summary>
    private static void RemoveDiagnosticsSocket()
    {
        try
        {
            foreach (var socket in Directory.EnumerateFiles(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-*-socket"))
            {
                File.Delete(socket);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static Dictionary<string, string?> Fail(string why)
    {
        Console.Error.WriteLine($"fatal: {why}; the service does not start without its secrets.");
        Environment.Exit(78); // EX_CONFIG
        return [];
    }

    private static List<string>? ReadCommandLine()
    {
        try
        {
            var text = Encoding.UTF8.GetString(File.ReadAllBytes("/proc/self/cmdline"));
            return [.. text.TrimEnd('\0').Split('\0')];
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void Exec(string path, string[] argv, string[] environment)
    {
        var pointers = new List<IntPtr>();
        try
        {
            var argvBlock = Block(argv, pointers);
            var environmentBlock = Block(environment, pointers);
            _ = NativeMethods.Execve(path, argvBlock, environmentBlock); // returns only when it failed
        }
        finally
        {
            foreach (var pointer in pointers)
            {
                Marshal.FreeCoTaskMem(pointer);
            }
        }
    }

    /// <summary>A NULL-terminated array of UTF-8 strings, for execve.</summary>
    private static IntPtr[] Block(string[] values, List<IntPtr> allocated)
    {
        var block = new IntPtr[values.Length + 1];
        for (var i = 0; i < values.Length; i++)
        {
            block[i] = Marshal.StringToCoTaskMemUTF8(values[i]);
            allocated.Add(block[i]);
        }

        return block;
    }

    private static void Warn(string why) =>
        Console.Error.WriteLine($"warning: the secrets stay in this process's environment ({why}).");

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "memfd_create", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int MemfdCreate([MarshalAs(UnmanagedType.LPUTF8Str)] string name, uint flags);

        [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Fcntl(int fd, int command, int argument);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Close(int fd);

        [DllImport("libc", EntryPoint = "execve", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Execve([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr[] argv, IntPtr[] environment);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class SecretHandoverJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
