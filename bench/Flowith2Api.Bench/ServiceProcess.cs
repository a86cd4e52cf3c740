using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Flowith2Api.Bench;

/// <summary>One product process (<c>dotnet Service.dll</c>) started from its build output, with its RSS and CPU sampled.</summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServiceProcess(string name, Process process, Uri uri, Uri? http2Uri)
    {
        Name = name;
        _process = process;
        Uri = uri;
        Http2Uri = http2Uri;
    }

    public string Name { get; }

    public Uri Uri { get; }

    /// <summary>The HTTP/2-only (prior knowledge) listener, when the service was started with one.</summary>
    public Uri? Http2Uri { get; }

    public int Pid => _process.Id;

    /// <summary>
    /// Starts <paramref name="project"/> from <c>bin/&lt;configuration&gt;</c> on a free loopback port (and, with
    /// <paramref name="http2Endpoint"/>, an HTTP/2-only one as the AppHost gives it) and waits for /health.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(string repoRoot, string folder, string project, string configuration,
        IEnumerable<string> args, CancellationToken cancellationToken, bool http2Endpoint = false)
    {
        var dll = Path.Combine(repoRoot, folder, project, "bin", configuration, "net10.0", project + ".dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{dll} is missing: build the bench in {configuration} first.");
        var port = FreePort();
        var uri = new Uri($"http://127.0.0.1:{port}/");
        var http2Uri = http2Endpoint ? new Uri($"http://127.0.0.1:{FreePort()}/") : null;
        // Thousands of open streams need more descriptors than a login shell's default: raise the limit where allowed.
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("ulimit -n 1048576 2>/dev/null || ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec dotnet \"$@\"");
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add($"--urls={uri.ToString().TrimEnd('/')}");
        if (http2Uri is not null)
        {
            info.ArgumentList.Add($"--Kestrel:Endpoints:http:Url={uri.ToString().TrimEnd('/')}");
            info.ArgumentList.Add($"--Kestrel:Endpoints:h2c:Url={http2Uri.ToString().TrimEnd('/')}");
            info.ArgumentList.Add("--Kestrel:Endpoints:h2c:Protocols=Http2");
        }

        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{project} did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
                Console.Error.WriteLine($"[{project}] {line}");
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(project, process, uri, http2Uri);
        using var client = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"{project} exited with {process.ExitCode} during start.");
            try
            {
                using var response = await client.GetAsync(new Uri("health", UriKind.Relative), cancellationToken);
                if (response.IsSuccessStatusCode)
                    return service;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                await service.DisposeAsync();
                throw new TimeoutException($"{project} was not healthy within 60 s.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Resident memory in bytes (VmRSS), or 0 where /proc is not available.</summary>
    public long ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>CPU time used so far.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.HasExited ? TimeSpan.Zero : _process.TotalProcessorTime;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
