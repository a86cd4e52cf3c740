using System.Buffers;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowith2Api.ToolService.Sandbox;

/// <summary>
/// Runs commands under bubblewrap: every namespace unshared (no network interfaces besides a private loopback), all
/// capabilities dropped, /usr read-only, a private /tmp, only the workspace bound read-write at /workspace, an empty
/// environment, prlimit CPU/memory/file-size/process limits, a wall timeout that kills the whole process tree, and
/// capped output. Without a working bubblewrap it reports itself unavailable and runs nothing.
/// </summary>
public sealed partial class BubblewrapSandbox : ISandbox
{
    /// <summary>The workspace as the sandboxed program sees it.</summary>
    public const string SandboxWorkspace = "/workspace";

    private const string SandboxPath = "/usr/bin:/bin";
    private const string PrlimitPath = "/usr/bin/prlimit";
    private const string BashPath = "/usr/bin/bash";
    private const long MaxFileBytes = 256L * 1024 * 1024;
    private const int MaxProcesses = 256;
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger;
    private readonly Lazy<(bool Available, string? Reason)> _availability;
    private readonly string _bwrapPath;

    /// <param name="logger">Where to log; nothing is logged when null.</param>
    /// <param name="bwrapPath">
    /// The bubblewrap binary; null looks for <c>bwrap</c> on the PATH and then at <c>/usr/bin/bwrap</c>.
    /// </param>
    public BubblewrapSandbox(ILogger<BubblewrapSandbox>? logger = null, string? bwrapPath = null)
    {
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _bwrapPath = bwrapPath ?? FindOnPath("bwrap") ?? "/usr/bin/bwrap";
        _availability = new Lazy<(bool, string?)>(Probe, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public bool IsAvailable => _availability.Value.Available;

    public string? UnavailableReason => _availability.Value.Reason;

    public async Task<SandboxResult> RunAsync(SandboxCommand command, CancellationToken cancellationToken)
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException(UnavailableReason);
        }

        Validate(command);
        var startInfo = CreateStartInfo(_bwrapPath, command.Workspace, LimitedCommand(command));
        var started = Stopwatch.GetTimestamp();
        using var process = new Process { StartInfo = startInfo };
        try
        {
            await ProcessLauncher.StartAsync(process);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            LogStartFailed(_logger, ex.NativeErrorCode);
            return new SandboxResult(-1, "", "The sandbox could not be started.", TimedOut: false, OutputTruncated: false);
        }

        using var timeout = new CancellationTokenSource(command.Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var overflow = new CancellationTokenSource();
        var stdout = new CappedReader(process.StandardOutput.BaseStream, command.MaxOutputBytes, overflow);
        var stderr = new CappedReader(process.StandardError.BaseStream, command.MaxOutputBytes, overflow);
        var stdoutTask = stdout.ReadAsync();
        var stderrTask = stderr.ReadAsync();
        var stdinTask = WriteInputAsync(process, command.StandardInput);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(linked.Token, overflow.Token);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = timeout.IsCancellationRequested && !overflow.IsCancellationRequested;
            KillTree(process);
        }

        await WaitForExitAfterKillAsync(process);
        await DrainAsync(stdoutTask, stderrTask, stdinTask);

        cancellationToken.ThrowIfCancellationRequested();

        var truncated = stdout.Truncated || stderr.Truncated;
        var exitCode = process.HasExited ? process.ExitCode : -1;
        var elapsed = Stopwatch.GetElapsedTime(started);
        LogFinished(_logger, command.Program, exitCode, (long)elapsed.TotalMilliseconds, timedOut, truncated);
        return new SandboxResult(exitCode, stdout.Text(), stderr.Text(), timedOut, truncated);
    }

    private (bool Available, string? Reason) Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return Unavailable("Commands cannot run: the sandbox needs Linux with bubblewrap, and this host is not Linux.");
        }

        if (!File.Exists(_bwrapPath))
        {
            return Unavailable(
                "Commands cannot run: bubblewrap (bwrap) is not installed, and commands never run without the sandbox. "
                + "Install the Debian package 'bubblewrap' on the tool service host.");
        }

        if (!File.Exists(PrlimitPath) && !File.Exists(BashPath))
        {
            return Unavailable("Commands cannot run: neither prlimit (util-linux) nor bash is installed, so resource limits cannot be applied.");
        }

        DirectoryInfo? probeWorkspace = null;
        try
        {
            probeWorkspace = Directory.CreateTempSubdirectory("f2a-sandbox-probe-");
            using var process = new Process { StartInfo = CreateStartInfo(_bwrapPath, probeWorkspace.FullName, ["true"]) };
            ProcessLauncher.StartAsync(process).GetAwaiter().GetResult();
            process.StandardInput.Close();
            var errorTask = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(ProbeTimeout))
            {
                KillTree(process);
                return Unavailable("Commands cannot run: the bubblewrap self-test did not finish in time.");
            }

            if (process.ExitCode != 0)
            {
                var detail = errorTask.Wait(DrainTimeout) ? FirstLine(errorTask.Result) : "";
                return Unavailable(
                    "Commands cannot run: bubblewrap is installed but cannot create the sandbox here"
                    + (detail.Length > 0 ? $" ({detail})" : "")
                    + ". Allow unprivileged user namespaces or run the tool service with the needed privileges.");
            }

            return (true, null);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return Unavailable($"Commands cannot run: bubblewrap could not be started ({ex.GetType().Name}).");
        }
        finally
        {
            try
            {
                probeWorkspace?.Delete(recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private (bool, string?) Unavailable(string reason)
    {
        LogUnavailable(_logger, reason);
        return (false, reason);
    }

    private static void Validate(SandboxCommand command)
    {
        if (string.IsNullOrWhiteSpace(command.Program) || command.Program.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("The program name is empty or contains a NUL character.", nameof(command));
        }

        if (command.Arguments.Any(a => a.Contains('\0', StringComparison.Ordinal))
            || (command.StandardInput?.Contains('\0', StringComparison.Ordinal) ?? false))
        {
            throw new ArgumentException("Command arguments cannot contain NUL characters.", nameof(command));
        }

        if (!Path.IsPathFullyQualified(command.Workspace) || !Directory.Exists(command.Workspace))
        {
            throw new ArgumentException("The workspace must be an existing absolute directory.", nameof(command));
        }

        if (command.Timeout <= TimeSpan.Zero || command.CpuSeconds <= 0 || command.MemoryBytes <= 0 || command.MaxOutputBytes <= 0)
        {
            throw new ArgumentException("Sandbox limits must be positive.", nameof(command));
        }
    }

    /// <summary>The program wrapped in prlimit (or bash ulimit when prlimit is missing).</summary>
    private static List<string> LimitedCommand(SandboxCommand command)
    {
        var program = new List<string> { command.Program };
        program.AddRange(command.Arguments);
        if (File.Exists(PrlimitPath))
        {
            return
            [
                PrlimitPath,
                $"--cpu={command.CpuSeconds}",
                $"--as={command.MemoryBytes}",
                $"--nproc={MaxProcesses}",
                $"--fsize={MaxFileBytes}",
                "--core=0",
                "--",
                .. program,
            ];
        }

        var script = $"ulimit -t {command.CpuSeconds} -v {command.MemoryBytes / 1024} -u {MaxProcesses} -f {MaxFileBytes / 512} -c 0 && exec \"$@\"";
        return [BashPath, "-c", script, "sandbox", .. program];
    }

    private static ProcessStartInfo CreateStartInfo(string bwrapPath, string workspace, IReadOnlyList<string> program)
    {
        var startInfo = new ProcessStartInfo(bwrapPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
            WorkingDirectory = "/",
        };

        // bwrap itself gets no inherited secrets either; --clearenv below empties the sandboxed environment.
        startInfo.Environment.Clear();
        startInfo.Environment["PATH"] = SandboxPath;

        string[] arguments =
        [
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--cap-drop", "ALL",
            "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/sbin", "/sbin",
            "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
            "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", "67108864", "--tmpfs", "/tmp",
            "--bind", workspace, SandboxWorkspace,
            "--chdir", SandboxWorkspace,
            "--clearenv",
            "--setenv", "PATH", SandboxPath,
            "--setenv", "HOME", SandboxWorkspace,
            "--setenv", "LANG", "C.UTF-8",
            "--setenv", "TMPDIR", "/tmp",
            "--",
        ];
        foreach (var argument in arguments.Concat(program))
        {
            startInfo.ArgumentList.Add(argument);
        }

        return startInfo;
    }

    private static async Task WriteInputAsync(Process process, string? input)
    {
        try
        {
            if (input is not null)
            {
                var bytes = new UTF8Encoding(false).GetBytes(input);
                await process.StandardInput.BaseStream.WriteAsync(bytes);
                await process.StandardInput.BaseStream.FlushAsync();
            }
        }
        catch (IOException)
        {
            // The program exited or closed its input before reading all of it.
        }
        finally
        {
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
            }
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or AggregateException)
        {
            // Exiting while being killed; bubblewrap's PID namespace takes the rest down with its init.
        }
    }

    private static async Task WaitForExitAfterKillAsync(Process process)
    {
        using var exitTimeout = new CancellationTokenSource(ExitTimeout);
        try
        {
            await process.WaitForExitAsync(exitTimeout.Token);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
        }
    }

    /// <summary>
    /// Waits for the output readers; a descendant that escaped the kill could hold the pipes open, so the wait is
    /// bounded (bubblewrap's PID namespace normally takes every descendant down with it).
    /// </summary>
    private static async Task DrainAsync(params Task[] tasks)
    {
        try
        {
            await Task.WhenAll(tasks).WaitAsync(DrainTimeout);
        }
        catch (TimeoutException)
        {
        }
    }

    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Path.IsPathFullyQualified(directory))
            {
                continue;
            }

            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 200 ? line[..200] : line;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox unavailable, command tools will refuse to run: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "bubblewrap could not be started (error {ErrorCode})")]
    private static partial void LogStartFailed(ILogger logger, int errorCode);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sandboxed {Program} exited with {ExitCode} after {ElapsedMs} ms (timed out: {TimedOut}, output truncated: {Truncated})")]
    private static partial void LogFinished(ILogger logger, string program, int exitCode, long elapsedMs, bool timedOut, bool truncated);

    /// <summary>Reads a stream to its end, keeping at most a cap of bytes and signalling when more arrives.</summary>
    private sealed class CappedReader(Stream stream, int cap, CancellationTokenSource overflow)
    {
        private readonly ArrayBufferWriter<byte> _kept = new();

        public bool Truncated { get; private set; }

        public async Task ReadAsync()
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var read = await stream.ReadAsync(buffer);
                    if (read == 0)
                    {
                        return;
                    }

                    var room = cap - _kept.WrittenCount;
                    if (read > room)
                    {
                        _kept.Write(buffer.AsSpan(0, Math.Max(room, 0)));
                        Truncated = true;
                        await overflow.CancelAsync();
                        return;
                    }

                    _kept.Write(buffer.AsSpan(0, read));
                }
            }
            catch (IOException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public string Text()
        {
            var bytes = _kept.WrittenSpan;
            if (Truncated)
            {
                bytes = bytes[..CompleteUtf8Length(bytes)];
            }

            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Drops a multi-byte character the cap cut in half.</summary>
        private static int CompleteUtf8Length(ReadOnlySpan<byte> bytes)
        {
            var end = bytes.Length;
            var back = 0;
            while (back < 3 && end - back - 1 >= 0 && (bytes[end - back - 1] & 0xC0) == 0x80)
            {
                back++;
            }

            if (end - back - 1 < 0)
            {
                return end;
            }

            var lead = bytes[end - back - 1];
            var expected = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            return expected == back + 1 ? end : end - back - 1;
        }
    }
}
