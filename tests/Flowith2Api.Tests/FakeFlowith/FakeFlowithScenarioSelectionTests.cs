using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.FakeFlowith;
using static Flowith2Api.Tests.FakeFlowith.FakeFlowithTestSupport;

namespace Flowith2Api.Tests.FakeFlowith;

public sealed class FakeFlowithScenarioSelectionTests(FakeFlowithServerFixture fixture) : IClassFixture<FakeFlowithServerFixture>
{
    private readonly FakeFlowithServer _server = fixture.Server;

    [Fact]
    public async Task Scenario_precedence_is_header_then_request_id_then_queue_then_sticky_then_inline_token_then_directive_then_default()
    {
        await using var server = await FakeFlowithServer.StartAsync(new FakeFlowithOptions { DefaultScenario = "text=default" })
            .WaitAsync(StartTimeout);
        var inlineToken = "fake:text=inline";
        var requestId = Guid.NewGuid().ToString();
        server.Scenarios.ForRequestId(requestId, new FakeScenario { Text = "request-id" });
        server.Scenarios.Enqueue(inlineToken, new FakeScenario { Text = "queue" });
        server.Scenarios.SetForToken(inlineToken, new FakeScenario { Text = "sticky" });
        using var inline = Client(server, inlineToken);
        using var plain = Client(server, NewToken());
        const string directive = "hello [[fake:text=directive]]";

        async Task<(string Text, FakeScenarioSource Source)> AskAsync(HttpClient client, string? header, string? id, string message)
        {
            var (response, body) = await SeekAsync(client, message, scenarioHeader: header, requestId: id);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var last = server.Requests.All[^1];
            return (AnswerText(body), last.ScenarioSource);
        }

        Assert.Equal(("header", FakeScenarioSource.Header), await AskAsync(inline, "text=header", requestId, directive));
        Assert.Equal(1, server.Scenarios.QueuedCount(inlineToken));
        Assert.Equal(("request-id", FakeScenarioSource.RequestId), await AskAsync(inline, null, requestId, directive));
        Assert.Equal(("request-id", FakeScenarioSource.RequestId), await AskAsync(inline, null, requestId, directive));
        Assert.Equal(("queue", FakeScenarioSource.Queue), await AskAsync(inline, null, null, directive));
        Assert.Equal(("sticky", FakeScenarioSource.Token), await AskAsync(inline, null, null, directive));
        server.Scenarios.SetForToken(inlineToken, null);
        Assert.Equal(("inline", FakeScenarioSource.InlineToken), await AskAsync(inline, null, null, directive));
        Assert.Equal(("directive", FakeScenarioSource.MessageDirective), await AskAsync(plain, null, null, directive));
        Assert.Equal(("default", FakeScenarioSource.Default), await AskAsync(plain, null, null, "hello"));
    }

    [Fact]
    public async Task The_one_shot_queue_is_consumed_in_order_then_the_normal_answer_returns()
    {
        var token = NewToken();
        _server.Scenarios.Enqueue(token, FakeScenario.Parse("status=500"), FakeScenario.Parse("status=429;retry-after=3"));
        _server.Scenarios.Enqueue(token, FakeScenario.Parse("text=third"));
        using var client = Client(_server, token);

        Assert.Equal(HttpStatusCode.InternalServerError, (await SeekAsync(client, "q")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SeekAsync(client, "q")).Response.StatusCode);
        Assert.Equal("third", AnswerText((await SeekAsync(client, "q")).Body));
        Assert.Equal("fake-flowith reply to: q", AnswerText((await SeekAsync(client, "q")).Body));
        Assert.Equal(0, _server.Scenarios.QueuedCount(token));
    }

    [Fact]
    public async Task A_message_directive_is_stripped_from_the_echoed_reply()
    {
        using var client = Client(_server, NewToken());

        var (_, body) = await SeekAsync(client, "Tell me a joke [[fake:chunk=2;terminator=bare]] please");

        Assert.Equal("fake-flowith reply to: Tell me a joke  please", AnswerText(body));
        Assert.Equal("fa", FinalPieces(body)[0]);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_inline_token_scenario_applies_to_every_request_with_that_token()
    {
        using var client = Client(_server, "fake:status=401");

        var first = await SeekAsync(client, "q");
        var second = await SeekAsync(client, "q");

        Assert.Equal(HttpStatusCode.Unauthorized, first.Response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.Response.StatusCode);
    }

    [Fact]
    public async Task An_invalid_inline_token_or_directive_spec_is_a_400()
    {
        using var badToken = Client(_server, "fake:nonsense=1");
        using var client = Client(_server, NewToken());

        Assert.Equal(HttpStatusCode.BadRequest, (await SeekAsync(badToken, "q")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await SeekAsync(client, "[[fake:chunk=zero]]")).Response.StatusCode);
    }

    [Fact]
    public async Task ClearToken_forgets_the_sticky_scenario_and_the_queue()
    {
        var token = NewToken();
        _server.Scenarios.SetForToken(token, FakeScenario.Parse("status=403"));
        _server.Scenarios.Enqueue(token, FakeScenario.Parse("status=402"));
        _server.Scenarios.ClearToken(token);
        using var client = Client(_server, token);

        Assert.Equal(HttpStatusCode.OK, (await SeekAsync(client, "q")).Response.StatusCode);
    }

    [Fact]
    public async Task The_models_route_applies_sticky_scenarios_but_leaves_the_queue_to_chat_requests()
    {
        var token = NewToken();
        using var client = Client(_server, token);
        var models = new Uri("/external/use/knowledge-base/models", UriKind.Relative);
        _server.Scenarios.Enqueue(token, FakeScenario.Parse("text=queued"));
        _server.Scenarios.SetForToken(token, FakeScenario.Parse("status=401"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(models)).StatusCode);
        _server.Scenarios.SetForToken(token, null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(models)).StatusCode);
        Assert.Equal("queued", AnswerText((await SeekAsync(client, "q")).Body));
    }

    [Fact]
    public async Task The_control_routes_script_tokens_request_ids_and_the_default_over_http()
    {
        await using var server = await FakeFlowithServer.StartAsync().WaitAsync(StartTimeout);
        using var control = Client(server, token: null);
        var token = NewToken();
        using var client = Client(server, token);

        async Task<HttpResponseMessage> PostAsync(string path, string body, string mediaType = "text/plain")
        {
            using var content = new StringContent(body, Encoding.UTF8, mediaType);
            return await control.PostAsync(new Uri(path, UriKind.Relative), content);
        }

        var sticky = await PostAsync($"/_fake/tokens/{token}/scenario", "text=sticky%20one");
        Assert.Equal(HttpStatusCode.OK, sticky.StatusCode);
        Assert.Contains("text=sticky%20one", await sticky.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync($"/_fake/tokens/{token}/queue", "{\"status\":503}", "application/json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync($"/_fake/tokens/{token}/queue", "\"text=queued\"", "application/json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/_fake/request-ids/rid-1/scenario", "text=by-id")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync($"/_fake/tokens/{token}/scenario", "nope=1")).StatusCode);

        Assert.Equal("by-id", AnswerText((await SeekAsync(client, "q", requestId: "rid-1")).Body));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SeekAsync(client, "q")).Response.StatusCode);
        Assert.Equal("queued", AnswerText((await SeekAsync(client, "q")).Body));
        Assert.Equal("sticky one", AnswerText((await SeekAsync(client, "q")).Body));

        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/_fake/default-scenario", "text=new-default")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await control.DeleteAsync(new Uri($"/_fake/tokens/{token}/scenario", UriKind.Relative))).StatusCode);
        Assert.Equal("new-default", AnswerText((await SeekAsync(client, "q")).Body));

        Assert.Equal(HttpStatusCode.NoContent, (await control.DeleteAsync(new Uri("/_fake/scenarios", UriKind.Relative))).StatusCode);
        Assert.Equal("fake-flowith reply to: q", AnswerText((await SeekAsync(client, "q", requestId: "rid-1")).Body));

        var requests = await control.GetStringAsync(new Uri($"/_fake/requests?token={token}", UriKind.Relative));
        using var doc = JsonDocument.Parse(requests);
        Assert.Equal(6, doc.RootElement.GetArrayLength());
        Assert.Equal("text=by-id", doc.RootElement[0].GetProperty("scenario").GetString());
        Assert.Equal("RequestId", doc.RootElement[0].GetProperty("scenarioSource").GetString());
        Assert.Equal("rid-1", doc.RootElement[0].GetProperty("requestId").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await control.DeleteAsync(new Uri("/_fake/requests", UriKind.Relative))).StatusCode);
        Assert.Equal(0, server.Requests.Count);
        Assert.Equal("Healthy", await control.GetStringAsync(new Uri("/health", UriKind.Relative)));
    }
}
