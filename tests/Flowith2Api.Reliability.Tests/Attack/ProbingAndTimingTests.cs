using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Gateway.Auth;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowith2Api.Reliability.Tests.Attack;

/// <summary>Guessing keys by timing, and reading another key's sessions or responses by id (or by a forged key-id header).</summary>
public sealed class ProbingAndTimingTests(AttackCluster fixture) : IClassFixture<AttackCluster>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public void A_near_miss_key_takes_as_long_to_refuse_as_a_far_miss()
    {
        const string Real = "sk-timing-admin-key-0123456789abcdef0123456789abcdef";
        var store = new ApiKeyStore(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ADMIN_KEY"] = Real }).Build(),
            NullLogger<ApiKeyStore>.Instance);
        var near = Real[..^1] + "0"; // all but the last character right
        var far = "sk-" + new string('z', Real.Length - 3);
        Assert.NotNull(store.Find(Real));
        Assert.Null(store.Find(near));
        Assert.Null(store.Find(far));

        // Interleaved rounds, median of each: a prefix-by-prefix comparison would make the near miss measurably slower.
        var nearTimes = new List<double>();
        var farTimes = new List<double>();
        for (var round = 0; round < 41; round++)
        {
            foreach (var (key, times) in round % 2 == 0 ? new[] { (near, nearTimes), (far, farTimes) } : [(far, farTimes), (near, nearTimes)])
            {
                var clock = Stopwatch.GetTimestamp();
                for (var i = 0; i < 2000; i++)
                {
                    store.Find(key);
                }

                times.Add(Stopwatch.GetElapsedTime(clock).TotalMicroseconds / 2000);
            }
        }

        var (nearMedian, farMedian) = (nearTimes.Order().ElementAt(20), farTimes.Order().ElementAt(20));
        Assert.InRange(nearMedian / farMedian, 0.8, 1.25);
    }

    [Fact]
    public async Task Another_keys_session_cannot_be_read_or_continued_even_with_a_forged_key_id_header()
    {
        var cluster = fixture.Cluster;
        using var owner = cluster.CreateClient(GatewayCluster.UserKey);
        using var stranger = cluster.CreateClient(GatewayCluster.SecondUserKey);
        const string Session = "attack-probe-session";
        using (var created = await owner.PostAsync("/v1/chat/completions",
            Json($$"""{"session_id":"{{Session}}","messages":[{"role":"user","content":"my secret plan"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        // The owner's key id, as the Gateway would send it: the stranger forges it.
        var ownerId = "key_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(GatewayCluster.UserKey)).AsSpan(0, 8));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json($$"""{"session_id":"{{Session}}","messages":[{"role":"user","content":"what was my plan?"}]}"""),
        };
        request.Headers.Add("x-flowith2api-key-id", ownerId);
        using var probe = await stranger.SendAsync(request);
        var body = await probe.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.NotFound, probe.StatusCode);
        Assert.Contains("session_not_found", body, StringComparison.Ordinal);
        Assert.DoesNotContain(cluster.Fake.Requests.All, r => r.Body.Contains("what was my plan?", StringComparison.Ordinal));

        // Its admin view is for admins only.
        using var adminView = await stranger.GetAsync($"/v1/admin/sessions?session_id={Session}");
        Assert.Equal(HttpStatusCode.Forbidden, adminView.StatusCode);
    }

    [Fact]
    public async Task Response_ids_of_another_key_answer_exactly_like_ids_that_never_existed()
    {
        var cluster = fixture.Cluster;
        using var owner = cluster.CreateClient(GatewayCluster.UserKey);
        using var stranger = cluster.CreateClient(GatewayCluster.SecondUserKey);
        using var created = await owner.PostAsync("/v1/responses", Json("""{"input":"private"}"""));
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        async Task<(HttpStatusCode, string)> ProbeAsync(string probeId)
        {
            using var response = await stranger.GetAsync($"/v1/responses/{probeId}");
            var text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, text.Replace(probeId, "<id>", StringComparison.Ordinal));
        }

        Assert.Equal(await ProbeAsync("resp_" + Guid.NewGuid().ToString("N")), await ProbeAsync(id));
        foreach (var weird in new[] { "..%2F..%2Finternal%2Fkeys", "resp_%00", new string('a', 300), "resp_*", "%2e%2e" })
        {
            using var response = await stranger.GetAsync($"/v1/responses/{weird}");
            Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{weird}: {response.StatusCode}");
        }
    }
}
