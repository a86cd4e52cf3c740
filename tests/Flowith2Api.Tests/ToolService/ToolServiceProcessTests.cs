using System.Diagnostics;
using System.Net;
using System.Text;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.ToolService;

/// <summary>
/// The ToolService as it runs in production, its own build output as a process: the secrets it is started with (in
/// its environment and on its command line) are gone from <c>/proc/&lt;pid&gt;/environ</c> and <c>cmdline</c>, the
/// descriptor that handed them over is closed, a command it runs sees none of them, and it still knows them.
/// </summary>
public sealed class ToolServiceProcessTests
{
    private const string Internal = "process-test-internal-secret-5e0c1d";
    private const string ImageKey = "process-test-image-key-77ab";
    private const string Connection = "process-test-connection-string-31f0";
    private const string AdminKey = "process-test-admin-key-c4d2";

    [Fact]
    public async Task The_tool_service_keeps_no_secret_in_its_environment_or_command_line_yet_knows_them()
    {
        var workspace = Directory.CreateTempSubdirectory("f2a-process-ws-").FullName;
        var dll = Path.Combine(TestEnvironment.RepositoryRoot, "src", "Flowith2Api.ToolService", "bin", TestEnvironment.Configuration, "net10.0", "Flowith2Api.ToolService.dll");
        Assert.True(File.Exists(dll), $"{dll} is built with the tests");
        var port = TestEnvironment.FreePort();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { dll, $"--urls=http://127.0.0.1:{port}", $"--ADMIN_KEY={AdminKey}", "--LOG_LEVEL=warn" })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["INTERNAL_SECRET"] = Internal;
        info.Environment["IMAGE_API_KEY"] = ImageKey;
        info.Environment["ConnectionStrings__unused"] = Connection;
        info.Environment["ENABLE_CLI_MODE"] = "true";
        info.Environment["CLI_WORKSPACE"] = workspace;
        using var process = Process.Start(info)!;
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => errors.AppendLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
            await WaitHealthyAsync(http, process);

            var pid = process.Id;
            var environment = await File.ReadAllTextAsync($"/proc/{pid}/environ");
            var commandLine = await File.ReadAllTextAsync($"/proc/{pid}/cmdline");
            foreach (var secret in new[] { Internal, ImageKey, Connection, AdminKey })
            {
                Assert.DoesNotContain(secret, environment, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, commandLine, StringComparison.Ordinal);
            }

            Assert.Contains($"CLI_WORKSPACE={workspace}", environment, StringComparison.Ordinal); // the rest of the environment stays
            Assert.DoesNotContain("secrets stay", errors.ToString(), StringComparison.Ordinal);
            foreach (var descriptor in Directory.GetFiles($"/proc/{pid}/fd"))
            {
                Assert.DoesNotContain("flowith2api-secrets", new FileInfo(descriptor).LinkTarget ?? "", StringComparison.Ordinal);
            }

            // It still knows the internal secret: a call without it is refused, one with it answered.
            using (var refused = await http.GetAsync("/internal/tools"))
            {
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            }

            http.DefaultRequestHeaders.Add("x-flowith2api-internal", Internal);
            using (var listed = await http.GetAsync("/internal/tools"))
            {
                Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
            }

            // A command it runs sees none of them either, wherever it looks.
            using var run = await http.PostAsync("/internal/tools/execute", new StringContent(
                """{"tool":"bash_execute","arguments":{"command":"env; cat /proc/1/environ /proc/self/environ 2>&1; ls /proc"}}""", Encoding.UTF8, "application/json"));
            var output = await run.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, run.StatusCode);
            Assert.Contains("PATH=", output, StringComparison.Ordinal);
            foreach (var secret in new[] { Internal, ImageKey, Connection, AdminKey })
            {
                Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }

            Directory.Delete(workspace, recursive: true);
        }
    }

    private static async Task WaitHealthyAsync(HttpClient http, Process process)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var health = await http.GetAsync("/health");
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            Assert.False(process.HasExited, "the tool service exited");
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the tool service did not become healthy");
            await Task.Delay(100);
        }
    }
}
