using System.Net;
using System.Text;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Gateway;

/// <summary>Authentication, realms, request ids, limits and errors at the edge, through real HTTP.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class GatewayEdgeTests(GatewayClusterFixture fixture)
{
    private GatewayCluster Cluster => fixture.Cluster;

    private static StringContent ChatBody(string text = "hi") =>
        new($$"""{"model":"flowith","messages":[{"role":"user","content":"{{text}}"}]}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_missing_key_gets_401_in_the_openai_envelope()
    {
        using var http = Cluster.CreateClient(apiKey: null);
        using var response = await http.PostAsync("/v1/chat/completions", ChatBody());
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.Unauthorized, "missing_api_key");
        Assert.True(response.Headers.Contains("x-request-id"));
    }

    [Fact]
    public async Task A_wrong_key_on_the_anthropic_route_gets_401_in_the_anthropic_envelope()
    {
        using var http = Cluster.CreateClient(apiKey: null);
        http.DefaultRequestHeaders.Add("x-api-key", "sk-wrong");
        using var response = await http.PostAsync("/v1/messages", ChatBody());
        await ErrorEnvelope.AssertAnthropicAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
    }

    [Fact]
    public async Task The_x_api_key_header_is_accepted_like_a_bearer_token()
    {
        using var http = Cluster.CreateClient(apiKey: null);
        http.DefaultRequestHeaders.Add("x-api-key", GatewayCluster.UserKey);
        using var response = await http.PostAsync("/v1/chat/completions", ChatBody());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_x_goog_api_key_header_is_accepted_like_a_bearer_token_and_a_wrong_one_is_refused()
    {
        using var http = Cluster.CreateClient(apiKey: null);
        http.DefaultRequestHeaders.Add("x-goog-api-key", GatewayCluster.UserKey);
        using var response = await http.PostAsync("/v1/chat/completions", ChatBody());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var wrong = Cluster.CreateClient(apiKey: null);
        wrong.DefaultRequestHeaders.Add("x-goog-api-key", "sk-wrong");
        using var refused = await wrong.PostAsync("/v1/chat/completions", ChatBody());
        await ErrorEnvelope.AssertOpenAIAsync(refused, HttpStatusCode.Unauthorized, "invalid_api_key");
    }

    [Theory]
    [InlineData("/v1/admin/stats")]
    [InlineData("/V1/ADMIN/stats")]
    [InlineData("/v1/admin/tools")]
    [InlineData("/v1/admin/%2e%2e/admin/stats")]
    [InlineData("/v1/chat/../admin/stats")]
    public async Task Admin_routes_refuse_a_valid_non_admin_key_with_403(string path)
    {
        using var http = Cluster.CreateClient(GatewayCluster.UserKey);
        using var response = await http.GetAsync(path);
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.Forbidden, "admin_key_required");
    }

    [Fact]
    public async Task The_admin_key_passes_the_admin_realm_to_the_admin_service()
    {
        using var http = Cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var response = await http.GetAsync("/v1/admin/no-such-thing");
        // The admin service answered (with its own problem document), so auth, routing and the internal secret worked.
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("admin service", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/v1/admin/no-such-thing.json")]
    [InlineData("DELETE", "/v1/admin/stats")]
    [InlineData("POST", "/v1/admin/tools/x.y")]
    public async Task A_services_bare_error_status_still_has_a_body(string method, string path)
    {
        // The router's own answers (a file-like path no fallback takes, a wrong method) were empty; now a problem document.
        using var http = Cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "GET" ? null : ChatBody() });
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"{method} {path}: {response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(path.Split('/')[^1], await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_route_needs_a_key_and_then_gets_a_json_404()
    {
        using var anonymous = Cluster.CreateClient(apiKey: null);
        using var unauthorized = await anonymous.GetAsync("/v1/nothing-here");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);

        using var http = Cluster.CreateClient();
        using var response = await http.GetAsync("/v1/nothing-here");
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.NotFound, "unknown_route");
    }

    [Theory]
    [InlineData("POST", "/v1/models/flowith")]
    [InlineData("POST", "/v1/models/..%2Fadmin%2Ftokens")]
    [InlineData("POST", "/v1/models/gpt-4.1")]
    [InlineData("DELETE", "/v1/models")]
    [InlineData("GET", "/v1/chat/completions")]
    [InlineData("PUT", "/v1/responses")]
    [InlineData("POST", "/v1/responses/resp_x.json")]
    public async Task The_wrong_method_on_an_openai_route_gets_a_404_in_the_openai_envelope(string method, string path)
    {
        using var http = Cluster.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
        {
            request.Content = ChatBody(new string('x', 200_000)); // a body the service never reads
        }

        using var response = await http.SendAsync(request);
        var error = await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.NotFound, "unknown_route"); // as OpenAI answers it
        Assert.Contains(method, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/messages/count_tokens")]
    [InlineData("/v1/messages")]
    [InlineData("/v1/messages/batches.json")]
    public async Task The_wrong_method_or_path_on_the_anthropic_route_gets_a_404_in_the_anthropic_envelope(string path)
    {
        using var http = Cluster.CreateClient();
        using var response = await http.GetAsync(path);
        await ErrorEnvelope.AssertAnthropicAsync(response, HttpStatusCode.NotFound, "not_found_error");
    }

    [Fact]
    public async Task Health_and_liveness_answer_without_a_key_but_metrics_need_the_admin_key()
    {
        using var anonymous = Cluster.CreateClient(apiKey: null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/alive")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);

        using var user = Cluster.CreateClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/metrics")).StatusCode);

        using var admin = Cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var metrics = await admin.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }

    [Fact]
    public async Task A_sane_client_request_id_is_kept_and_a_hostile_one_is_replaced()
    {
        using var http = Cluster.CreateClient();
        using var sane = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = ChatBody() };
        sane.Headers.Add("x-request-id", "client-id-123");
        using var saneResponse = await http.SendAsync(sane);
        Assert.Equal("client-id-123", saneResponse.Headers.GetValues("x-request-id").Single());

        using var hostile = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = ChatBody() };
        hostile.Headers.TryAddWithoutValidation("x-request-id", "<script>" + new string('x', 300));
        using var hostileResponse = await http.SendAsync(hostile);
        var replaced = hostileResponse.Headers.GetValues("x-request-id").Single();
        Assert.StartsWith("req_", replaced, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_supplied_internal_headers_are_stripped_and_keys_never_reach_the_services()
    {
        using var http = Cluster.CreateClient();
        var requestId = "req-spoof-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = ChatBody() };
        request.Headers.Add("x-request-id", requestId);
        request.Headers.Add("x-flowith2api-admin", "true");
        request.Headers.Add("X-Flowith2Api-Key-Id", "key_forged");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var upstream = await Cluster.Fake.Requests.WaitForAsync(r => r.RequestId == requestId, TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(upstream.Headers, h => h.Value.Contains(GatewayCluster.UserKey, StringComparison.Ordinal));
        Assert.DoesNotContain(upstream.Headers, h => h.Value.Contains(GatewayCluster.InternalSecret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Calling_a_service_directly_without_the_internal_secret_is_refused()
    {
        using var direct = new HttpClient { BaseAddress = Cluster.ChatServiceUri, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await direct.PostAsync("/v1/chat/completions", ChatBody());
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);

        direct.DefaultRequestHeaders.Add("x-flowith2api-internal", "guessed-secret");
        using var guessed = await direct.PostAsync("/v1/chat/completions", ChatBody());
        Assert.Equal(HttpStatusCode.Forbidden, guessed.StatusCode);

        using var health = await direct.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_413_before_it_is_forwarded()
    {
        using var http = Cluster.CreateClient();
        http.DefaultRequestHeaders.ExpectContinue = true; // the refusal comes before the body is sent
        using var content = new ByteArrayContent(new byte[33 * 1024 * 1024]);
        content.Headers.ContentType = new("application/json");
        using var response = await http.PostAsync("/v1/chat/completions", content);
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }
}
