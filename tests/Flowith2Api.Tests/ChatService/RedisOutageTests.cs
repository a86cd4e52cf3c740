using System.Net;
using System.Text;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.ChatService;

public sealed class RedisOutageTests
{
    [Fact]
    public async Task With_redis_gone_chat_requests_still_succeed_on_a_local_rotation()
    {
        var redis = await RedisServer.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = "flo_outage_credential_a1,flo_outage_credential_b2",
            Redis = redis.ConnectionString,
        });
        using var http = cluster.CreateClient(timeout: TimeSpan.FromSeconds(30));
        static StringContent Ask() => new("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");
        using (var before = await http.PostAsync("/v1/chat/completions", Ask()))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await redis.DisposeAsync();

        for (var i = 0; i < 2; i++)
        {
            using var during = await http.PostAsync("/v1/chat/completions", Ask());
            Assert.Equal(HttpStatusCode.OK, during.StatusCode);
        }
    }

    [Fact]
    public async Task With_redis_gone_a_response_is_still_answered_and_reading_stored_ones_is_a_503()
    {
        var redis = await RedisServer.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { Redis = redis.ConnectionString });
        using var http = cluster.CreateClient(timeout: TimeSpan.FromSeconds(30));
        static StringContent Ask(string extra = "") => new($$"""{"input":"hi"{{extra}}}""", Encoding.UTF8, "application/json");
        string id;
        using (var before = await http.PostAsync("/v1/responses", Ask()))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
            id = System.Text.Json.JsonDocument.Parse(await before.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        }

        await redis.DisposeAsync();

        using (var during = await http.PostAsync("/v1/responses", Ask()))
        {
            Assert.Equal(HttpStatusCode.OK, during.StatusCode); // the answer is delivered; only storing it failed (and was logged)
        }

        foreach (var attempt in new Func<Task<HttpResponseMessage>>[]
        {
            () => http.GetAsync($"/v1/responses/{id}"),
            () => http.PostAsync("/v1/responses", Ask($$""","previous_response_id":"{{id}}" """)),
        })
        {
            using var response = await attempt();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("response_store_unavailable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }
}
