using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Responses;

/// <summary>A function-call round trip on /v1/responses through the emulated tool calling.</summary>
public sealed class ResponsesToolCallingTests
{
    private const string Token = "flo_responses_tools_credential";

    private const string Tools = """[{"type":"function","name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]""";

    private static FakeScenario Says(string text) => new() { Text = text, ChunkSize = 4 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_function_call_and_its_output_round_trip_to_a_final_answer(bool stream)
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Token });
        cluster.Fake.Scenarios.Enqueue(Token,
            Says("<tool_call name=\"get_weather\">{\"city\": \"Paris\"}</tool_call>"),
            Says("It is 21 degrees in Paris."));
        using var http = cluster.CreateClient();

        var first = await CreateAsync(http, $$"""{"model":"gpt-4.1-mini","input":"Weather in Paris?","tools":{{Tools}},"stream":{{(stream ? "true" : "false")}}}""", stream);
        var call = Assert.Single(first.GetProperty("output").EnumerateArray(), o => o.GetProperty("type").GetString() == "function_call");
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        Assert.Equal("completed", call.GetProperty("status").GetString());
        Assert.StartsWith("fc_", call.GetProperty("id").GetString(), StringComparison.Ordinal);
        var callId = call.GetProperty("call_id").GetString()!;
        Assert.Equal("Paris", JsonDocument.Parse(call.GetProperty("arguments").GetString()!).RootElement.GetProperty("city").GetString());

        var input = new JsonArray
        {
            new JsonObject { ["role"] = "user", ["content"] = "Weather in Paris?" },
            JsonNode.Parse(call.GetRawText()),
            new JsonObject { ["type"] = "function_call_output", ["call_id"] = callId, ["output"] = """{"temperature_c": 21}""" },
        };
        var second = await CreateAsync(http,
            $$"""{"model":"gpt-4.1-mini","input":{{input.ToJsonString()}},"tools":{{Tools}},"stream":{{(stream ? "true" : "false")}}}""", stream);

        var message = Assert.Single(second.GetProperty("output").EnumerateArray());
        Assert.Equal("It is 21 degrees in Paris.", message.GetProperty("content")[0].GetProperty("text").GetString());
        var transcript = string.Join("\n", JsonDocument.Parse(cluster.Fake.Requests.All[^1].Body).RootElement.GetProperty("messages")
            .EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        Assert.Contains("<tool_call name=\"get_weather\">", transcript, StringComparison.Ordinal);
        Assert.Contains($"<tool_result name=\"get_weather\" id=\"{callId}\">", transcript, StringComparison.Ordinal);
    }

    /// <summary>
    /// Tools grouped in a namespace (the Codex CLI's sub-agent tools) are offered by their own names and a call names its
    /// namespace again, streamed or not; the hosted web_search tool Codex always sends is accepted (left to the server
    /// tools); other hosted tools are still refused.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_namespaced_tool_is_called_with_its_namespace(bool stream)
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Token });
        cluster.Fake.Scenarios.Enqueue(Token, Says("<tool_call name=\"spawn_agent\">{\"task\": \"index the repo\"}</tool_call>"));
        using var http = cluster.CreateClient();
        const string Namespaced = """
            [{"type":"namespace","name":"multi_agent_v1","description":"Sub-agents.","tools":[
               {"type":"function","name":"spawn_agent","description":"Start a sub-agent","strict":false,"parameters":{"type":"object","properties":{"task":{"type":"string"}}}},
               {"type":"function","name":"wait_agent","description":"Wait for it","parameters":{"type":"object","properties":{}}}]},
             {"type":"function","name":"exec_command","description":"Run a command","parameters":{"type":"object","properties":{"cmd":{"type":"string"}}}},
             {"type":"web_search","external_web_access":false}]
            """;

        var response = await CreateAsync(http, $$"""{"model":"gpt-4.1-mini","input":"Index the repo.","tools":{{Namespaced}},"stream":{{(stream ? "true" : "false")}}}""", stream);

        var call = Assert.Single(response.GetProperty("output").EnumerateArray(), o => o.GetProperty("type").GetString() == "function_call");
        Assert.Equal("spawn_agent", call.GetProperty("name").GetString());
        Assert.Equal("multi_agent_v1", call.GetProperty("namespace").GetString());
        Assert.Equal("index the repo", JsonDocument.Parse(call.GetProperty("arguments").GetString()!).RootElement.GetProperty("task").GetString());
        var prompt = cluster.Fake.Requests.All[^1].Body;
        Assert.Contains("wait_agent", prompt, StringComparison.Ordinal);
        Assert.Contains("exec_command", prompt, StringComparison.Ordinal);

        using var refused = await http.PostAsync("/v1/responses", new StringContent(
            """{"model":"gpt-4.1-mini","input":"hi","tools":[{"type":"file_search","vector_store_ids":["vs_1"]}]}""", Encoding.UTF8, "application/json"));
        await ErrorEnvelope.AssertOpenAIAsync(refused, HttpStatusCode.BadRequest, "unsupported_parameter");
        using var duplicate = await http.PostAsync("/v1/responses", new StringContent(
            """{"model":"gpt-4.1-mini","input":"hi","tools":[{"type":"function","name":"a","parameters":{}},{"type":"namespace","name":"n","tools":[{"type":"function","name":"a","parameters":{}}]}]}""",
            Encoding.UTF8, "application/json"));
        await ErrorEnvelope.AssertOpenAIAsync(duplicate, HttpStatusCode.BadRequest);
    }

    /// <summary>The response object: the body, or for a stream the one in response.completed.</summary>
    private static async Task<JsonElement> CreateAsync(HttpClient http, string body, bool stream)
    {
        using var response = await http.PostAsync("/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        if (!stream)
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }

        var completed = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Single(block => block.StartsWith("event: response.completed", StringComparison.Ordinal));
        var data = completed.Split('\n').Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        var result = JsonDocument.Parse(data).RootElement.GetProperty("response").Clone();
        if (result.GetProperty("output").EnumerateArray().Any(o => o.GetProperty("type").GetString() == "function_call"))
        {
            Assert.Contains("event: response.function_call_arguments.done", text, StringComparison.Ordinal);
        }

        return result;
    }
}
