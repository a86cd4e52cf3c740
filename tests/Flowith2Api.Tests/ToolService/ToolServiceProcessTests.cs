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
    private const string RedisPassword = "process-test-redis-password-90aa";

    [Fact]
    public async Task The_tool_service_keeps_no_secret_in_its_environment_or_command_line_yet_knows_them()
    {
        var workspace = Directory.CreateTempSubdirectory("f2a-process-ws-").FullName;
        try
        {
            await using var service = await ServiceProcess.StartAsync("Flowith2Api.ToolService", [$"--ADMIN_KEY={AdminKey}", "--LOG_LEVEL=warn"],
                new Dictionary<string, string>
                {
                    ["INTERNAL_SECRET"] = Internal,
                    ["IMAGE_API_KEY"] = ImageKey,
                    ["ConnectionStrings__unused"] = Connection,
                    ["REDIS_PASSWORD"] = RedisPassword,
                    ["ENABLE_CLI_MODE"] = "true",
                    ["CLI_WORKSPACE"] = workspace,
                });
            using var http = new HttpClient { BaseAddress = service.Uri, Timeout = TimeSpan.FromSeconds(30) };
            var pid = service.Process.Id;
            var environment = await File.ReadAllTextAsync($"/proc/{pid}/environ");
            var commandLine = await File.ReadAllTextAsync($"/proc/{pid}/cmdline");
            foreach (var secret in new[] { Internal, ImageKey, Connection, AdminKey, RedisPassword })
            {
                Assert.DoesNotContain(secret, environment, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, commandLine, StringComparison.Ordinal);
            }

            Assert.Contains($"CLI_WORKSPACE={workspace}", environment, StringComparison.Ordinal); // the rest of the environment stays
            Assert.DoesNotContain("secrets stay", service.Errors, StringComparison.Ordinal);
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
            foreach (var secret in new[] { Internal, ImageKey, Connection, AdminKey, RedisPassword })
            {
                Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(workspace, recursive: true);
        }
    }
}
