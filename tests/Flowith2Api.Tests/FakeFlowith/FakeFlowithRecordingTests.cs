using System.Net;
using System.Text.Json;
using Flowith2Api.FakeFlowith;
using static Flowith2Api.Tests.FakeFlowith.FakeFlowithTestSupport;

namespace Flowith2Api.Tests.FakeFlowith;

public sealed class FakeFlowithRecordingTests(FakeFlowithServerFixture fixture) : IClassFixture<FakeFlowithServerFixture>
{
    private readonly FakeFlowithServer _server = fixture.Server;

    [Fact]
    public async Task Every_seek_request_is_recorded_with_headers_body_token_request_id_and_scenario()
    {
        var token = NewToken();
        using var client = Client(_server, token);

        await SeekAsync(client, "record me", scenarioHeader: "chunk=4", requestId: "req-42");

        var recorded = await _server.Requests.WaitForAsync(r => r.Token == token, WaitTimeout);
        Assert.Equal("POST", recorded.Method);
        Assert.Equal("/external/use/knowledge-base/seek", recorded.Path);
        Assert.Equal("req-42", recorded.RequestId);
        Assert.Equal($"Bearer {token}", recorded.Header("authorization"));
        Assert.Equal("text/event-stream", recorded.Header("Accept"));
        Assert.StartsWith("application/json", recorded.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal(SeekBody("record me"), recorded.Body);
        Assert.Equal(FakeScenario.Parse("chunk=4"), recorded.Scenario);
        Assert.Equal(FakeScenarioSource.Header, recorded.ScenarioSource);
        Assert.True(recorded.Timestamp > DateTimeOffset.UtcNow.AddMinutes(-1));
        using var body = JsonDocument.Parse(recorded.Body);
        Assert.Equal("record me", body.RootElement.GetProperty("messages")[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task WaitForAsync_completes_when_a_matching_request_arrives_later()
    {
        var token = NewToken();
        var wait = _server.Requests.WaitForAsync(r => r.Token == token && r.Body.Contains("later", StringComparison.Ordinal), WaitTimeout);
        Assert.False(wait.IsCompleted);
        using var client = Client(_server, token);

        await SeekAsync(client, "later");

        var recorded = await wait;
        Assert.Equal(token, recorded.Token);
    }

    [Fact]
    public async Task WaitForAsync_throws_a_TimeoutException_when_nothing_matches()
    {
        await Assert.ThrowsAsync<TimeoutException>(() =>
            _server.Requests.WaitForAsync(r => r.Token == "never-used", TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task The_ring_buffer_keeps_only_the_newest_requests_and_capacity_zero_disables_recording()
    {
        await using var small = await FakeFlowithServer.StartAsync(new FakeFlowithOptions { RecordCapacity = 3 }).WaitAsync(StartTimeout);
        await using var off = await FakeFlowithServer.StartAsync(new FakeFlowithOptions { RecordCapacity = 0 }).WaitAsync(StartTimeout);
        using var smallClient = Client(small, NewToken());
        using var offClient = Client(off, NewToken());

        for (var i = 1; i <= 5; i++)
            await SeekAsync(smallClient, $"message {i}");
        var (offResponse, _) = await SeekAsync(offClient, "q");

        Assert.Equal(3, small.Requests.Count);
        Assert.Equal(5, small.Requests.TotalRecorded);
        Assert.Equal([3L, 4L, 5L], small.Requests.All.Select(r => r.Sequence));
        Assert.Contains("message 5", small.Requests.All[^1].Body, StringComparison.Ordinal);
        small.Requests.Clear();
        Assert.Empty(small.Requests.All);

        Assert.Equal(HttpStatusCode.OK, offResponse.StatusCode);
        Assert.False(off.Requests.IsEnabled);
        Assert.Equal(0, off.Requests.Count);
    }

    [Fact]
    public async Task In_flight_requests_are_counted_per_token()
    {
        var token = NewToken();
        using var client = Client(_server, token);
        var pending = SeekAsync(client, "q", scenarioHeader: "latency=500");

        await EventuallyAsync(() => _server.Requests.InFlight(token) == 1, WaitTimeout, "the request is in flight");
        await pending.WaitAsync(WaitTimeout);

        await EventuallyAsync(() => _server.Requests.InFlight(token) == 0, WaitTimeout, "the request has finished");
    }

    [Fact]
    public async Task The_models_route_lists_the_models_and_the_documented_alias_is_404()
    {
        var token = NewToken();
        using var client = Client(_server, token);

        var response = await client.GetAsync(new Uri("/external/use/knowledge-base/models", UriKind.Relative));
        var legacy = await client.GetAsync(new Uri("/external/use/seek-knowledge/models", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var models = doc.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetString()).ToList();
        Assert.Contains("gpt-4.1-mini", models);
        Assert.Contains("claude-4-sonnet", models);
        Assert.Contains("deepseek-reasoner", models);
        Assert.Equal(models.Count, doc.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, legacy.StatusCode);
        var recorded = await _server.Requests.WaitForAsync(r => r.Token == token && r.Method == "GET", WaitTimeout);
        Assert.Equal("/external/use/knowledge-base/models", recorded.Path);
    }

    [Fact]
    public async Task The_models_list_is_configurable_and_needs_a_token()
    {
        await using var server = await FakeFlowithServer.StartAsync(new FakeFlowithOptions { Models = ["m-one", "m-two"] })
            .WaitAsync(StartTimeout);
        using var client = Client(server, NewToken());
        using var anonymous = Client(server, token: null);

        var body = await client.GetStringAsync(new Uri("/external/use/knowledge-base/models", UriKind.Relative));
        var unauthorized = await anonymous.GetAsync(new Uri("/external/use/knowledge-base/models", UriKind.Relative));

        Assert.Equal("{\"models\":[\"m-one\",\"m-two\"],\"count\":2}", body);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task The_process_app_takes_its_url_and_options_from_the_command_line()
    {
        await using var app = FakeFlowithApp.Create(
            ["--urls", "http://127.0.0.1:0", "--FakeFlowith:DefaultScenario=text=from%20config", "--FakeFlowith:Models:0=only-model"]);
        await app.StartAsync().WaitAsync(StartTimeout);
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = RequestTimeout };
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "t");

            var (_, body) = await SeekAsync(client, "q");
            var models = await client.GetStringAsync(new Uri("/external/use/knowledge-base/models", UriKind.Relative));

            Assert.Equal("from config", AnswerText(body));
            Assert.Equal("{\"models\":[\"only-model\"],\"count\":1}", models);
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await app.StopAsync(stop.Token);
        }
    }

    [Fact]
    public async Task Invalid_options_fail_at_start()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            FakeFlowithServer.StartAsync(new FakeFlowithOptions { DefaultScenario = "nope=1" }).WaitAsync(StartTimeout));
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            FakeFlowithServer.StartAsync(new FakeFlowithOptions { RecordCapacity = -1 }).WaitAsync(StartTimeout));
    }
}
