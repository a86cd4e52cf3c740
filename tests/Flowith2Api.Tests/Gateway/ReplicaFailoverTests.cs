using System.Net;
using System.Text;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Flowith2Api.Tests.Gateway;

/// <summary>
/// A ChatService replica that is gone (crashed, scaled away) costs no new request: the connection it refuses is opened
/// to the other replica instead, at once, before any health check has noticed — over h2c as the AppHost runs it and
/// over HTTP/1.1.
/// </summary>
public sealed class ReplicaFailoverTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Requests_a_dead_replica_would_have_refused_go_to_the_live_one(bool http2)
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { ChatReplicas = 2, ChatOverHttp2 = http2 });
        using var http = cluster.CreateClient(timeout: TimeSpan.FromSeconds(30));

        // Both replicas take work first (so the Gateway holds connections to the one about to die).
        for (var i = 0; i < 10; i++)
        {
            using var warm = await http.PostAsync("/v1/chat/completions", Chat(stream: false));
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        await cluster.KillChatReplicaAsync(1);
        var before = cluster.Fake.Requests.All.Count;

        // At once (the health checks need seconds): every request, each dialect, streamed or not.
        var statuses = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var (path, body) = (i % 3) switch
            {
                0 => ("/v1/chat/completions", Chat(stream: i % 2 == 0)),
                1 => ("/v1/messages", new StringContent(
                    $$"""{"model":"claude-sonnet-4","max_tokens":100,"stream":{{(i % 2 == 0 ? "true" : "false")}},"messages":[{"role":"user","content":"hello"}]}""",
                    Encoding.UTF8, "application/json")),
                _ => ("/v1/responses", new StringContent("""{"store":false,"input":"hello"}""", Encoding.UTF8, "application/json")),
            };
            using var response = await http.PostAsync(path, body);
            var text = await response.Content.ReadAsStringAsync();
            statuses.Add($"{path} {(int)response.StatusCode}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"request {i} after the kill, {path}: {(int)response.StatusCode} {text}");
            var streamed = response.Content.Headers.ContentType?.MediaType == "text/event-stream";
            Assert.True(streamed ? text.Contains("[DONE]", StringComparison.Ordinal) || text.Contains("message_stop", StringComparison.Ordinal)
                : text.Contains("hello", StringComparison.OrdinalIgnoreCase), $"request {i}, {path}: {text}");
        }

        // Each was answered once: no request reached the upstream twice.
        Assert.Equal(30, cluster.Fake.Requests.All.Skip(before).Count(r => r.Path.EndsWith("/seek", StringComparison.Ordinal)));

        // The failovers hide nothing from the health checks: the /ready probes (which are never failed over) find the
        // dead replica within seconds and the Gateway counts it unhealthy, while the live one stays healthy.
        var lookup = cluster.GatewayServices.GetRequiredService<Yarp.ReverseProxy.IProxyStateLookup>();
        Assert.True(lookup.TryGetCluster("chat-service", out var chat));
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15)
            && chat.DestinationsState.AllDestinations.Count(d => d.Health.Active == Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy) != 1)
        {
            await Task.Delay(200);
        }

        var states = string.Join(", ", chat.DestinationsState.AllDestinations.Select(d => $"{d.Model.Config.Address}: active {d.Health.Active}"));
        Assert.True(chat.DestinationsState.AllDestinations.Count(d => d.Health.Active == Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy) == 1, states);
        Assert.Single(chat.DestinationsState.AvailableDestinations);
    }

    private static StringContent Chat(bool stream) =>
        new($$"""{"model":"flowith","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hello"}]}""", Encoding.UTF8, "application/json");
}
