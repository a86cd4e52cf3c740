#pragma warning disable OPENAI001 // the SDK's Responses client is marked for evaluation
using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;
using Flowith2Api.Tests.Sessions;
using OpenAI.Responses;

namespace Flowith2Api.Tests.Responses;

/// <summary>Stored responses on a real Redis: continued with previous_response_id, read, listed and deleted by their key only.</summary>
public sealed class StoredResponsesTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    private const string Model = "gpt-4.1-mini";

    private Task<GatewayCluster> StartAsync(int replicas = 1, string? tokens = null) =>
        GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            Redis = fixture.Redis.ConnectionString,
            ChatReplicas = replicas,
            FlowithTokens = tokens ?? "flo_test_credential_alpha",
        });

    private static string Reply(string text) => "fake-flowith reply to: " + text;

    /// <summary>The (role, content) pairs of the last upstream call.</summary>
    private static List<(string Role, string Content)> LastUpstreamMessages(GatewayCluster cluster) =>
        [.. JsonDocument.Parse(cluster.Fake.Requests.All.Last(r => r.Path.EndsWith("/seek", StringComparison.Ordinal)).Body).RootElement
            .GetProperty("messages").EnumerateArray()
            .Select(m => (m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!))];

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Previous_response_id_continues_a_conversation_across_two_replicas_sending_each_turn_once()
    {
        await using var cluster = await StartAsync(replicas: 2);
        var first = cluster.CreateReplicaResponsesClient(0, "key_stored_replicas");
        var second = cluster.CreateReplicaResponsesClient(1, "key_stored_replicas");

        var one = (await first.CreateResponseAsync(Model, "My name is Ada.", null)).Value;
        var two = (await second.CreateResponseAsync(Model, "What is my name?", one.Id)).Value;
        Assert.Equal([("user", "My name is Ada."), ("assistant", Reply("My name is Ada.")), ("user", "What is my name?")],
            LastUpstreamMessages(cluster).Where(m => m.Role != "system"));
        var three = (await first.CreateResponseAsync(Model, "And again?", two.Id)).Value;

        Assert.Equal(one.Id, two.PreviousResponseId);
        Assert.Equal(two.Id, three.PreviousResponseId);
        Assert.Equal(Reply("And again?"), three.GetOutputText());
        Assert.Equal(
            [
                ("user", "My name is Ada."), ("assistant", Reply("My name is Ada.")),
                ("user", "What is my name?"), ("assistant", Reply("What is my name?")),
                ("user", "And again?"),
            ],
            LastUpstreamMessages(cluster).Where(m => m.Role != "system"));

        // Each replica reads what the other stored.
        Assert.Equal(Reply("What is my name?"), (await first.GetResponseAsync(two.Id)).Value.GetOutputText());
        Assert.Equal(Reply("And again?"), (await second.GetResponseAsync(three.Id)).Value.GetOutputText());
    }

    [Fact]
    public async Task A_stored_response_is_read_listed_and_deleted_with_the_official_sdk()
    {
        await using var cluster = await StartAsync();
        var client = cluster.CreateOpenAIResponsesClient();

        var created = (await client.CreateResponseAsync(Model, "Remember this.", null)).Value;
        var read = (await client.GetResponseAsync(created.Id)).Value;

        Assert.Equal(created.Id, read.Id);
        Assert.Equal(ResponseStatus.Completed, read.Status);
        Assert.Equal(Reply("Remember this."), read.GetOutputText());
        Assert.Equal(created.Usage.OutputTokenCount, read.Usage.OutputTokenCount);
        var items = new List<ResponseItem>();
        await foreach (var item in client.GetResponseInputItemsAsync(created.Id))
        {
            items.Add(item);
        }

        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(items));
        Assert.Equal(MessageRole.User, message.Role);
        Assert.Equal("Remember this.", Assert.Single(message.Content).Text);
        Assert.False(string.IsNullOrEmpty(message.Id));

        // Kept in Redis with the sessions' TTL (CONTEXT_TTL_SECONDS, an hour by default), not forever.
        using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString))
        {
            var key = Assert.Single(redis.GetServer(redis.GetEndPoints()[0]).Keys(pattern: "*response:" + created.Id));
            var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(key);
            Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
        }

        var deleted = (await client.DeleteResponseAsync(created.Id)).Value;
        Assert.True(deleted.Deleted);
        Assert.Equal(created.Id, deleted.ResponseId);
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(created.Id));
        Assert.Equal(404, gone.Status);
        var again = await Assert.ThrowsAsync<ClientResultException>(() => client.DeleteResponseAsync(created.Id));
        Assert.Equal(404, again.Status);
    }

    [Fact]
    public async Task A_streamed_response_is_stored_by_the_time_it_completes_and_can_be_continued_streaming()
    {
        await using var cluster = await StartAsync();
        var client = cluster.CreateOpenAIResponsesClient();

        var first = await CompleteStreamAsync(client, "Stream one.", null);
        var stored = (await client.GetResponseAsync(first.Id)).Value; // no wait: stored before response.completed
        Assert.Equal(ResponseStatus.Completed, stored.Status);
        Assert.Equal(first.GetOutputText(), stored.GetOutputText());
        Assert.Equal(Reply("Stream one."), stored.GetOutputText());
        Assert.Equal(first.OutputItems[0].Id, stored.OutputItems[0].Id);

        var second = await CompleteStreamAsync(client, "Stream two.", first.Id);

        Assert.Equal(first.Id, second.PreviousResponseId);
        Assert.Equal([("user", "Stream one."), ("assistant", Reply("Stream one.")), ("user", "Stream two.")],
            LastUpstreamMessages(cluster).Where(m => m.Role != "system"));
    }

    private static async Task<ResponseResult> CompleteStreamAsync(ResponsesClient client, string text, string? previous)
    {
        ResponseResult? completed = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(Model, text, previous))
        {
            if (update is StreamingResponseCompletedUpdate done)
            {
                completed = done.Response;
            }
        }

        return completed ?? throw new InvalidOperationException("the stream never completed");
    }

    [Fact]
    public async Task Another_keys_response_id_is_not_found_for_reading_listing_deleting_or_continuing()
    {
        await using var cluster = await StartAsync();
        using var owner = cluster.CreateClient();
        using var stranger = cluster.CreateClient(GatewayCluster.SecondUserKey);
        var (status, created) = await SendAsync(owner, HttpMethod.Post, "/v1/responses", $$"""{"model":"{{Model}}","input":"Private."}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var id = created.GetProperty("id").GetString()!;

        foreach (var (method, path) in new[] { (HttpMethod.Get, $"/v1/responses/{id}"), (HttpMethod.Get, $"/v1/responses/{id}/input_items"), (HttpMethod.Delete, $"/v1/responses/{id}") })
        {
            var (strangerStatus, error) = await SendAsync(stranger, method, path);
            Assert.Equal(HttpStatusCode.NotFound, strangerStatus);
            Assert.Equal("invalid_request_error", error.GetProperty("error").GetProperty("type").GetString());
            Assert.Equal("response_not_found", error.GetProperty("error").GetProperty("code").GetString());
        }

        // An id that never existed answers exactly the same.
        var (unknownStatus, unknown) = await SendAsync(stranger, HttpMethod.Get, "/v1/responses/resp_" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.NotFound, unknownStatus);
        Assert.Equal("response_not_found", unknown.GetProperty("error").GetProperty("code").GetString());

        var (continueStatus, continued) = await SendAsync(stranger, HttpMethod.Post, "/v1/responses",
            $$"""{"model":"{{Model}}","input":"Tell me.","previous_response_id":"{{id}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, continueStatus);
        Assert.Equal("previous_response_not_found", continued.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("previous_response_id", continued.GetProperty("error").GetProperty("param").GetString());
        Assert.DoesNotContain(cluster.Fake.Requests.All, r => r.Body.Contains("Tell me.", StringComparison.Ordinal));

        var (ownerStatus, stillThere) = await SendAsync(owner, HttpMethod.Get, $"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.OK, ownerStatus);
        Assert.Equal(id, stillThere.GetProperty("id").GetString());
    }

    [Fact]
    public async Task With_store_false_nothing_is_kept()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();

        var (status, created) = await SendAsync(http, HttpMethod.Post, "/v1/responses", $$"""{"model":"{{Model}}","input":"Forget me.","store":false}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(created.GetProperty("store").GetBoolean());
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, HttpMethod.Get, $"/v1/responses/{id}")).Status);
        var (continueStatus, continued) = await SendAsync(http, HttpMethod.Post, "/v1/responses", $$"""{"input":"More.","previous_response_id":"{{id}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, continueStatus);
        Assert.Equal("previous_response_not_found", continued.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Input_that_is_valid_json_but_not_valid_text_is_a_400_before_any_upstream_call()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();
        var before = cluster.Fake.Requests.All.Count;

        var (status, error) = await SendAsync(http, HttpMethod.Post, "/v1/responses",
            """{"model":"gpt-4.1-mini","input":[{"role":"user","content":"hi","id":"\ud800"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", error.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(before, cluster.Fake.Requests.All.Count);
    }

    [Fact]
    public async Task Instructions_are_not_carried_over_but_earlier_input_items_are()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();

        var (_, first) = await SendAsync(http, HttpMethod.Post, "/v1/responses",
            $$"""{"model":"{{Model}}","instructions":"Talk like a pirate.","input":[{"role":"developer","content":"Be brief."},{"role":"user","content":"Hello."}]}""");
        var (status, second) = await SendAsync(http, HttpMethod.Post, "/v1/responses",
            $$"""{"model":"{{Model}}","instructions":"Talk like a poet.","input":"Again.","previous_response_id":"{{first.GetProperty("id").GetString()}}"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Talk like a poet.", second.GetProperty("instructions").GetString());
        var upstream = JsonDocument.Parse(cluster.Fake.Requests.All[^1].Body).RootElement.GetProperty("messages").GetRawText();
        Assert.DoesNotContain("pirate", upstream, StringComparison.Ordinal);
        Assert.Contains("Talk like a poet.", upstream, StringComparison.Ordinal);
        Assert.Contains("Be brief.", upstream, StringComparison.Ordinal);
        Assert.Equal([("user", "Hello."), ("assistant", Reply("Hello.")), ("user", "Again.")], LastUpstreamMessages(cluster).Where(m => m.Role != "system"));
    }

    [Fact]
    public async Task A_function_call_is_continued_by_its_output_alone()
    {
        const string Token = "flo_stored_responses_tools";
        const string Tools = """[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]""";
        await using var cluster = await StartAsync(tokens: Token);
        cluster.Fake.Scenarios.Enqueue(Token,
            new FakeScenario { Text = "<tool_call name=\"get_weather\">{\"city\": \"Oslo\"}</tool_call>" },
            new FakeScenario { Text = "It is 4 degrees in Oslo." });
        using var http = cluster.CreateClient();

        var (_, first) = await SendAsync(http, HttpMethod.Post, "/v1/responses", $$"""{"model":"{{Model}}","input":"Weather in Oslo?","tools":{{Tools}}}""");
        var call = Assert.Single(first.GetProperty("output").EnumerateArray(), o => o.GetProperty("type").GetString() == "function_call");
        var callId = call.GetProperty("call_id").GetString()!;
        var output = new JsonArray { new JsonObject { ["type"] = "function_call_output", ["call_id"] = callId, ["output"] = "4 C" } };
        var (status, second) = await SendAsync(http, HttpMethod.Post, "/v1/responses",
            $$"""{"model":"{{Model}}","input":{{output.ToJsonString()}},"tools":{{Tools}},"previous_response_id":"{{first.GetProperty("id").GetString()}}"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("It is 4 degrees in Oslo.", second.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var transcript = string.Join("\n", LastUpstreamMessages(cluster).Select(m => m.Content));
        Assert.Contains("Weather in Oslo?", transcript, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(transcript, "<tool_call name=\"get_weather\">"));
        Assert.Contains($"<tool_result name=\"get_weather\" id=\"{callId}\">", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Input_items_keep_function_calls_and_outputs_with_unique_ids()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();
        var (status, created) = await SendAsync(http, HttpMethod.Post, "/v1/responses", $$"""
            {"model":"{{Model}}","input":[
              {"role":"user","content":"Weather?","id":"same"},
              {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{}","id":"same"},
              {"type":"function_call_output","call_id":"call_1","output":"sunny"}]}
            """);
        Assert.Equal(HttpStatusCode.OK, status);

        var (_, list) = await SendAsync(http, HttpMethod.Get, $"/v1/responses/{created.GetProperty("id").GetString()}/input_items?order=asc");

        var items = list.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(["message", "function_call", "function_call_output"], items.Select(i => i.GetProperty("type").GetString()));
        Assert.Equal(3, items.Select(i => i.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal("same", items[0].GetProperty("id").GetString());
        Assert.Equal("get_weather", items[1].GetProperty("name").GetString());
        Assert.Equal("sunny", items[2].GetProperty("output").GetString());
        Assert.All(items, i => Assert.Equal("completed", i.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Input_items_are_listed_newest_first_by_default_and_paged_with_after()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();
        var (_, created) = await SendAsync(http, HttpMethod.Post, "/v1/responses",
            $$"""{"model":"{{Model}}","input":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":[{"type":"input_text","text":"c"}]}]}""");
        var id = created.GetProperty("id").GetString()!;

        var (_, newest) = await SendAsync(http, HttpMethod.Get, $"/v1/responses/{id}/input_items");
        Assert.Equal("list", newest.GetProperty("object").GetString());
        Assert.Equal(["c", "b", "a"], newest.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("content")[0].GetProperty("text").GetString()));
        Assert.Equal("output_text", newest.GetProperty("data")[1].GetProperty("content")[0].GetProperty("type").GetString());
        Assert.False(newest.GetProperty("has_more").GetBoolean());

        var (_, page1) = await SendAsync(http, HttpMethod.Get, $"/v1/responses/{id}/input_items?order=asc&limit=2");
        Assert.Equal(["a", "b"], page1.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("content")[0].GetProperty("text").GetString()));
        Assert.True(page1.GetProperty("has_more").GetBoolean());
        var (_, page2) = await SendAsync(http, HttpMethod.Get, $"/v1/responses/{id}/input_items?order=asc&limit=2&after={page1.GetProperty("last_id").GetString()}");
        Assert.Equal(["c"], page2.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("content")[0].GetProperty("text").GetString()));
        Assert.False(page2.GetProperty("has_more").GetBoolean());

        var (_, beforeC) = await SendAsync(http, HttpMethod.Get, $"/v1/responses/{id}/input_items?order=asc&limit=1&before={page2.GetProperty("first_id").GetString()}");
        Assert.Equal(["b"], beforeC.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("content")[0].GetProperty("text").GetString()));
        Assert.True(beforeC.GetProperty("has_more").GetBoolean());
        var (_, unknownCursor) = await SendAsync(http, HttpMethod.Get, $"/v1/responses/{id}/input_items?after=msg_unknown");
        Assert.Empty(unknownCursor.GetProperty("data").EnumerateArray());

        var (badStatus, bad) = await SendAsync(http, HttpMethod.Get, $"/v1/responses/{id}/input_items?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Equal("limit", bad.GetProperty("error").GetProperty("param").GetString());
    }
}
