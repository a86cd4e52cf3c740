using System.Diagnostics;
using System.Text;

namespace Flowith2Api.Tests.Infrastructure;

/// <summary>
/// One service's own build output run as a child process on a free loopback port (as the AppHost and a deployment run
/// it: its <c>Main</c>, real signals, its own <c>/proc</c> entry), started and waited for until <c>/health</c> answers.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly StringBuilder _errors = new();

    private ServiceProcess(Process process, Uri uri)
    {
        Process = process;
        Uri = uri;
    }

    public Process Process { get; }

    public Uri Uri { get; }

    /// <summary>What the process wrote to standard error so far.</summary>
    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <param name="project">The service's project name, e.g. <c>Flowith2Api.ChatService</c>.</param>
    /// <param name="arguments">Its arguments after <c>--urls</c>.</param>
    /// <param name="environment">Variables set in its environment besides the inherited ones.</param>
    public static async Task<ServiceProcess> StartAsync(string project, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(TestEnvironment.RepositoryRoot, "src", project, "bin", TestEnvironment.Configuration, "net10.0", $"{project}.dll");
        Assert.True(File.Exists(dll), $"{dll} is built with the tests");
        var port = TestEnvironment.FreePort();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { dll, $"--urls=http://127.0.0.1:{port}" }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var service = new ServiceProcess(Process.Start(info)!, new Uri($"http://127.0.0.1:{port}/"));
        service.Process.OutputDataReceived += (_, _) => { };
        service.Process.ErrorDataReceived += (_, e) =>
        {
            lock (service._errors)
            {
                service._errors.AppendLine(e.Data);
            }
        };
        service.Process.BeginOutputReadLine();
        service.Process.BeginErrorReadLine();
        try
        {
            await service.WaitHealthyAsync();
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        Process.Dispose();
    }

    private async Task WaitHealthyAsync()
    {
        using var probe = new HttpClient { BaseAddress = Uri, Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var health = await probe.GetAsync("/health");
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (Process.HasExited || clock.Elapsed > StartTimeout)
            {
                throw new InvalidOperationException($"{Process.StartInfo.ArgumentList[0]} did not become healthy: {Errors}");
            }

            await Task.Delay(100);
        }
    }
}
