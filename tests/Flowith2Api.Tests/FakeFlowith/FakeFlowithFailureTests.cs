using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.FakeFlowith;
using static Flowith2Api.Tests.FakeFlowith.FakeFlowithTestSupport;

namespace Flowith2Api.Tests.FakeFlowith;

public sealed class FakeFlowithFailureTests(FakeFlowithServerFixture fixture) : IClassFixture<FakeFlowithServerFixture>
{
    private readonly FakeFlowithServer _server = fixture.Server;

    [Theory]
    [InlineData(401)]
    [InlineData(402)]
    [InlineData(403)]
    [InlineData(500)]
    [InlineData(504)]
    public async Task Scripted_error_statuses_answer_with_a_json_error_body(int status)
    {
        using var client = Client(_server, NewToken());

        var (response, body) = await SeekAsync(client, "q", scenarioHeader: $"status={status}");

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(body);
        Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("error").GetString()));
        Assert.Equal(status, doc.RootElement.GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData("status=429", "1")]
    [InlineData("status=429;retry-after=7", "7")]
    [InlineData("status=429;retry-after=none", null)]
    public async Task A_scripted_429_carries_the_configured_Retry_After(string spec, string? retryAfter)
    {
        using var client = Client(_server, NewToken());

        var (response, body) = await SeekAsync(client, "q", scenarioHeader: spec);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(retryAfter, response.Headers.TryGetValues("Retry-After", out var values) ? values.Single() : null);
        Assert.Contains("\"error\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scripted_502_is_an_html_page_from_the_edge()
    {
        using var client = Client(_server, NewToken());

        var (response, body) = await SeekAsync(client, "q", scenarioHeader: "status=502");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("<!DOCTYPE html><html>", body.Replace("\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("502 Bad Gateway", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scripted_503_is_plain_text()
    {
        using var client = Client(_server, NewToken());

        var (response, body) = await SeekAsync(client, "q", scenarioHeader: "status=503");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("Service Unavailable", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stall_before_headers_makes_the_client_time_out_and_the_server_lets_go()
    {
        var token = NewToken();
        using var client = Client(_server, token, timeout: TimeSpan.FromMilliseconds(400));

        await Assert.ThrowsAsync<TaskCanceledException>(() => SeekAsync(client, "q", scenarioHeader: "stall-before-headers=forever"));

        var recorded = await _server.Requests.WaitForAsync(r => r.Token == token, WaitTimeout);
        Assert.Equal(FakeScenario.Forever, recorded.Scenario!.StallBeforeHeadersMs);
        await EventuallyAsync(() => _server.Requests.InFlight(token) == 0, WaitTimeout, "the stalled request is released");
    }

    [Fact]
    public async Task A_mid_stream_stall_sends_k_chunks_then_nothing()
    {
        using var client = Client(_server, NewToken());
        using var request = SeekRequest("q", scenarioHeader: "text=abcdef;chunk=2;stall-after=2");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var received = await ReadUntilAsync(stream, "\"cd\"}\n\n", WaitTimeout);

        Assert.Equal("abcd", AnswerText(received));
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            var read = await stream.ReadAsync(new byte[64], quiet.Token);
            Assert.Fail($"expected a stall, got {read} more bytes");
        });
    }

    [Fact]
    public async Task A_finite_mid_stream_stall_resumes_and_finishes_the_answer()
    {
        using var client = Client(_server, NewToken());
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var (_, body) = await SeekAsync(client, "q", scenarioHeader: "text=abcdef;chunk=2;stall-after=1;stall=300");

        Assert.True(watch.ElapsedMilliseconds >= 250, $"took only {watch.ElapsedMilliseconds} ms");
        Assert.Equal(["ab", "cd", "ef", "[DONE]"], FinalPieces(body));
    }

    [Fact]
    public async Task A_reset_mid_stream_surfaces_as_an_IOException_after_k_chunks()
    {
        using var client = Client(_server, NewToken());
        using var request = SeekRequest("q", scenarioHeader: "text=abcdef;chunk=2;reset-after=2");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var received = new StringBuilder();
        var ex = await Record.ExceptionAsync(async () =>
        {
            using var reader = new StreamReader(stream);
            var buffer = new char[256];
            int read;
            using var cts = new CancellationTokenSource(WaitTimeout);
            while ((read = await reader.ReadAsync(buffer, cts.Token)) > 0)
                received.Append(buffer, 0, read);
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.IsAssignableFrom<IOException>(ex);
        Assert.Equal("abcd", AnswerText(received.ToString()));
        Assert.DoesNotContain("[DONE]", received.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reset_before_any_chunk_fails_the_request()
    {
        using var client = Client(_server, NewToken());

        var ex = await Record.ExceptionAsync(() => SeekAsync(client, "q", stream: false, scenarioHeader: "reset-after=0"));

        Assert.True(ex is HttpRequestException or IOException, $"unexpected {ex}");
    }

    [Fact]
    public async Task A_rate_limit_answers_429_with_Retry_After_once_the_token_used_its_quota()
    {
        var token = NewToken();
        var other = NewToken();
        _server.Scenarios.SetForToken(token, FakeScenario.Parse("ratelimit=3"));
        _server.Scenarios.SetForToken(other, FakeScenario.Parse("ratelimit=3"));
        using var client = Client(_server, token);
        using var otherClient = Client(_server, other);

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await SeekAsync(client, "q")).Response.StatusCode);
        var (limited, body) = await SeekAsync(client, "q");
        var (otherResponse, _) = await SeekAsync(otherClient, "q");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.InRange(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.Contains("\"error\"", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, otherResponse.StatusCode);
    }

    [Fact]
    public async Task The_rate_limit_window_frees_up_again_and_can_be_set_server_wide()
    {
        await using var server = await FakeFlowithServer.StartAsync(new FakeFlowithOptions { RateLimitPerMinute = 2, RateLimitWindowSeconds = 2 })
            .WaitAsync(StartTimeout);
        using var client = Client(server, NewToken());

        Assert.Equal(HttpStatusCode.OK, (await SeekAsync(client, "q")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SeekAsync(client, "q")).Response.StatusCode);
        var (limited, _) = await SeekAsync(client, "q");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.InRange(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 2);

        await Task.Delay(2100);
        Assert.Equal(HttpStatusCode.OK, (await SeekAsync(client, "q")).Response.StatusCode);
    }

    [Fact]
    public async Task Disposing_the_server_cuts_off_a_request_stalled_forever()
    {
        var server = await FakeFlowithServer.StartAsync().WaitAsync(StartTimeout);
        var token = NewToken();
        using var client = Client(server, token);
        var pending = SeekAsync(client, "q", scenarioHeader: "stall-before-headers=forever");
        await server.Requests.WaitForAsync(r => r.Token == token, WaitTimeout);

        await server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));

        var ex = await Record.ExceptionAsync(() => pending.WaitAsync(WaitTimeout));
        Assert.True(ex is HttpRequestException or IOException, $"unexpected {ex}");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Basic abc")]
    [InlineData("Bearer ")]
    public async Task A_missing_or_empty_bearer_token_is_a_401_json_error(string? authorization)
    {
        using var client = Client(_server, token: null);
        using var request = SeekRequest("q");
        if (authorization is not null)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);

        var (response, body) = await SendAsync(client, request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("\"error\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_valid_tokens_configured_other_tokens_get_401()
    {
        await using var server = await FakeFlowithServer.StartAsync(new FakeFlowithOptions { ValidTokens = ["flo_good"] })
            .WaitAsync(StartTimeout);
        using var good = Client(server, "flo_good");
        using var bad = Client(server, "flo_bad");

        Assert.Equal(HttpStatusCode.OK, (await SeekAsync(good, "q")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SeekAsync(bad, "q")).Response.StatusCode);
        var models = await bad.GetAsync(new Uri("/external/use/knowledge-base/models", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
    }

    [Theory]
    [InlineData("", "required")]
    [InlineData("not json", "JSON")]
    [InlineData("[]", "object")]
    [InlineData("{\"kb_list\":[]}", "messages is required")]
    [InlineData("{\"messages\":{},\"kb_list\":[]}", "messages must be an array")]
    [InlineData("{\"messages\":[],\"kb_list\":[]}", "messages must not be empty")]
    [InlineData("{\"messages\":[\"hi\"],\"kb_list\":[]}", "messages[0] must be an object")]
    [InlineData("{\"messages\":[{\"content\":\"hi\"}],\"kb_list\":[]}", "messages[0].role")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}],\"kb_list\":[]}", "messages[0].content must be a string")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":null}],\"kb_list\":[]}", "messages[1].content")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "kb_list is required")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"kb_list\":[1]}", "kb_list must be an array of strings")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"kb_list\":[],\"stream\":\"yes\"}", "stream")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"kb_list\":[],\"model\":5}", "model")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"kb_list\":[],\"max_tokens\":\"many\"}", "max_tokens")]
    public async Task An_invalid_body_is_a_400_json_error_naming_the_problem(string json, string expected)
    {
        var token = NewToken();
        using var client = Client(_server, token);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/external/use/knowledge-base/seek")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };

        var (response, body) = await SendAsync(client, request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(body);
        Assert.Contains(expected, doc.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        var recorded = await _server.Requests.WaitForAsync(r => r.Token == token, WaitTimeout);
        Assert.Equal(json, recorded.Body);
        Assert.Equal(FakeScenarioSource.None, recorded.ScenarioSource);
    }

    [Fact]
    public async Task A_valid_body_with_optional_fields_null_or_absent_is_accepted()
    {
        using var client = Client(_server, NewToken());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/external/use/knowledge-base/seek")
        {
            Content = new StringContent(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"\"}],\"kb_list\":[],\"model\":null,\"max_tokens\":64,\"extra\":{}}",
                Encoding.UTF8,
                "application/json"),
        };

        var (response, body) = await SendAsync(client, request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"tag\":\"final\",\"content\":\"fake-flowith reply to: hi\"}", body);
    }

    [Fact]
    public async Task An_invalid_scenario_header_is_a_400_that_says_why()
    {
        using var client = Client(_server, NewToken());

        var (response, body) = await SeekAsync(client, "q", scenarioHeader: "bogus=1");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("bogus", body, StringComparison.Ordinal);
    }
}
