using System.Text;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Admin;

/// <summary>No Flowith credential, API key or internal secret ever reaches a log line, at any level, even on failures.</summary>
public sealed class SecretsInLogsTests(Sessions.RedisFixture redisFixture) : IClassFixture<Sessions.RedisFixture>
{
    private const string Credential = "flo_4f2a9c0e7b1d3a5f6e8c0b2d4f6a8c0e";
    private const string Rejected = "flo_9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a";

    [Fact]
    public async Task A_run_with_successes_failures_and_admin_calls_logs_no_secret()
    {
        var logs = new CapturedLogs();
        await using (var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = $"{Credential},{Rejected}",
            Redis = redisFixture.Redis.ConnectionString,
            Logs = logs,
        }))
        {
            cluster.Fake.Scenarios.SetForToken(Rejected, FakeScenario.Parse("status=401"));
            using var user = cluster.CreateClient();
            using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
            using var wrong = cluster.CreateClient("sk-wrong-but-still-a-secret-value");
            foreach (var body in new[]
            {
                """{"messages":[{"role":"user","content":"hi"}]}""",
                """{"stream":true,"messages":[{"role":"user","content":"hi"}]}""",
                """{"messages":[{"role":"user","content":"[[fake:status=500]] x"}]}""",
                """{"messages":[{"role":"user","content":"[[fake:status=502]] x"}]}""",
            })
            {
                using var response = await user.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
                await response.Content.ReadAsStringAsync();
            }

            (await wrong.GetAsync("/v1/models")).Dispose();
            (await admin.GetAsync("/v1/admin/tokens")).Dispose();
            (await admin.PostAsync("/v1/admin/tokens", new StringContent("""{"token":"flo_added_through_admin_api_1234"}""", Encoding.UTF8, "application/json"))).Dispose();
            (await admin.GetAsync("/v1/admin/stats")).Dispose();
        }

        Assert.NotEmpty(logs.Lines);
        foreach (var secret in new[]
        {
            Credential, Rejected, "flo_added_through_admin_api_1234", GatewayCluster.UserKey, GatewayCluster.AdminKeyValue,
            "sk-wrong-but-still-a-secret-value", GatewayCluster.InternalSecret, "test-credential-encryption-key",
        })
        {
            var leak = logs.Lines.FirstOrDefault(line => line.Contains(secret, StringComparison.Ordinal));
            Assert.True(leak is null, $"a secret reached the logs: {leak}");
        }
    }
}
