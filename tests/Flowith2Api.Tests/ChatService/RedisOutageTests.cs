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
}
