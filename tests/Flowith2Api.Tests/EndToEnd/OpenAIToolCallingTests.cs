using System.Text;
using System.Text.Json;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;
using OpenAI.Chat;

namespace Flowith2Api.Tests.EndToEnd;

/// <summary>A whole tool round trip with the official OpenAI SDK, streamed and not.</summary>
public sealed class OpenAIToolCallingTests
{
    private const string Token = "flo_tool_calling_credential";

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool(
        "get_weather",
        "Current weather for a city",
        BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));

    private static readonly ChatTool Time = ChatTool.CreateFunctionTool("get_time", "The current time", BinaryData.FromString("""{"type":"object","properties":{}}"""));

    private static FakeScenario Says(string text) => new() { Text = text, ChunkSize = 4 };

    private static Task<GatewayCluster> StartAsync() => GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Token });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_tool_call_round_trip_ends_in_a_final_answer(bool stream)
    {
        await using var cluster = await StartAsync();
        cluster.Fake.Scenarios.Enqueue(Token,
            Says("I will look it up. <tool_call name=\"get_weather\">{\"city\": \"Paris\"}</tool_call>"),
            Says("It is 21 degrees in Paris."));
        var client = cluster.CreateOpenAIChatClient();
        var options = new ChatCompletionOptions { Tools = { Weather, Time } };
        List<ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];

        var (text, calls, finish) = await CompleteAsync(client, messages, options, stream);

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("I will look it up. ", text);
        var call = Assert.Single(calls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);
        Assert.Equal("Paris", JsonDocument.Parse(call.FunctionArguments).RootElement.GetProperty("city").GetString());

        messages.Add(new AssistantChatMessage([call]));
        messages.Add(new ToolChatMessage(call.Id, """{"temperature_c": 21}"""));
        var (final, moreCalls, finalFinish) = await CompleteAsync(client, messages, options, stream);

        Assert.Equal("It is 21 degrees in Paris.", final);
        Assert.Empty(moreCalls);
        Assert.Equal(ChatFinishReason.Stop, finalFinish);

        // The upstream saw the tools described, then the call and its result written back into the conversation.
        var second = JsonDocument.Parse(cluster.Fake.Requests.All[^1].Body).RootElement.GetProperty("messages");
        var transcript = string.Join("\n", second.EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        Assert.Contains("get_weather", transcript, StringComparison.Ordinal);
        Assert.Contains("<tool_call name=\"get_weather\">{\"city\":\"Paris\"}</tool_call>", transcript, StringComparison.Ordinal);
        Assert.Contains($"<tool_result name=\"get_weather\" id=\"{call.Id}\">\n{{\"temperature_c\": 21}}\n</tool_result>", transcript, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_calls_in_one_answer_arrive_as_two_tool_calls(bool stream)
    {
        await using var cluster = await StartAsync();
        cluster.Fake.Scenarios.Enqueue(Token,
            Says("<tool_call name=\"get_weather\">{\"city\":\"Oslo\"}</tool_call><tool_call name=\"get_time\">{}</tool_call>"));
        var (_, calls, finish) = await CompleteAsync(cluster.CreateOpenAIChatClient(), [new UserChatMessage("weather and time?")],
            new ChatCompletionOptions { Tools = { Weather, Time } }, stream);

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.FunctionName));
        Assert.Equal(2, calls.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_forced_tool_is_demanded_in_the_prompt_and_none_hides_the_tools()
    {
        await using var cluster = await StartAsync();
        var client = cluster.CreateOpenAIChatClient();
        await client.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions
        {
            Tools = { Weather, Time },
            ToolChoice = ChatToolChoice.CreateFunctionChoice("get_time"),
        });
        var forced = Prompt(cluster.Fake.Requests.All[^1].Body);
        Assert.Contains("You must call the tool \"get_time\"", forced, StringComparison.Ordinal);

        await client.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions
        {
            Tools = { Weather },
            ToolChoice = ChatToolChoice.CreateNoneChoice(),
        });
        Assert.DoesNotContain("get_weather", Prompt(cluster.Fake.Requests.All[^1].Body), StringComparison.Ordinal);
    }

    private static string Prompt(string body) => string.Join("\n",
        JsonDocument.Parse(body).RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));

    private static async Task<(string Text, List<ChatToolCall> Calls, ChatFinishReason? Finish)> CompleteAsync(
        ChatClient client, List<ChatMessage> messages, ChatCompletionOptions options, bool stream)
    {
        if (!stream)
        {
            ChatCompletion completion = await client.CompleteChatAsync(messages, options);
            return (string.Concat(completion.Content.Select(p => p.Text)), [.. completion.ToolCalls], completion.FinishReason);
        }

        var text = new StringBuilder();
        var ids = new Dictionary<int, string>();
        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            foreach (var call in update.ToolCallUpdates)
            {
                if (call.ToolCallId is not null)
                {
                    ids[call.Index] = call.ToolCallId;
                }

                if (call.FunctionName is not null)
                {
                    names[call.Index] = call.FunctionName;
                }

                if (!arguments.TryGetValue(call.Index, out var builder))
                {
                    arguments[call.Index] = builder = new StringBuilder();
                }

                builder.Append(call.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        var calls = ids.Keys.Order().Select(i => ChatToolCall.CreateFunctionToolCall(ids[i], names[i], BinaryData.FromString(arguments[i].ToString()))).ToList();
        return (text.ToString(), calls, finish);
    }
}
