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
