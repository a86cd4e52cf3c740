using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.ML.Tokenizers;

namespace Flowith2Api.Tests.Anthropic;

/// <summary>The official Anthropic SDK against the real Gateway → ChatService → fake Flowith.</summary>
public sealed class AnthropicSdkTests
{
    private const string Token = "flo_anthropic_sdk_credential";
    private const string Model = "claude-sonnet-4";

    private static Task<GatewayCluster> StartAsync() => GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Token });

    private static FakeScenario Says(string text) => new() { Text = text, ChunkSize = 5 };

    private static readonly Tool Weather = new()
    {
        Name = "get_weather",
        Description = "Current weather for a city",
        InputSchema = new InputSchema
        {
            Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) },
            Required = ["city"],
        },
    };

    private static readonly Tool Time = new()
    {
        Name = "get_time",
        Description = "The current time",
        InputSchema = new InputSchema { Properties = new Dictionary<string, JsonElement>() },
    };

    [Fact]
    public async Task A_plain_message_comes_back_with_its_text_stop_reason_and_usage()
    {
        await using var cluster = await StartAsync();
        using var client = cluster.CreateAnthropicClient();

        Message message = await client.Messages.Create(new MessageCreateParams
        {
            Model = Model,
            MaxTokens = 200,
            System = "Be brief.",
            Messages = [new UserMessageParam("Hello Claude")],
        });

        Assert.StartsWith("msg_", message.ID, StringComparison.Ordinal);
        Assert.Equal(Model, message.Model.Raw());
        Assert.Equal("end_turn", message.StopReason?.Raw());
        Assert.True(message.Content.Single().TryPickText(out var text));
        Assert.Equal("fake-flowith reply to: Hello Claude", text.Text);
        Assert.True(message.Usage.InputTokens > 0);
        Assert.True(message.Usage.OutputTokens > 0);
    }

    [Fact]
    public async Task A_streamed_message_arrives_in_anthropics_event_order_and_aggregates_to_the_same_text()
    {
        await using var cluster = await StartAsync();
        cluster.Fake.Scenarios.SetForToken(Token, Says("Streaming through the gateway works."));
        using var client = cluster.CreateAnthropicClient();
        var parameters = new MessageCreateParams { Model = Model, MaxTokens = 200, Messages = [new UserMessageParam("go")] };

        var order = new List<string>();
        var text = new StringBuilder();
        await foreach (var item in client.Messages.CreateStreaming(parameters))
        {
            order.Add(item.Type.Raw());
            if (item.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta.Text);
            }
        }

        Assert.Equal("Streaming through the gateway works.", text.ToString());
        Assert.Equal("message_start", order[0]);
        Assert.Equal("content_block_start", order[1]);
        Assert.All(order[2..^3], e => Assert.Equal("content_block_delta", e));
        Assert.True(order.Count > 6, "the text should arrive in several deltas");
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], order[^3..]);

        Message aggregated = await client.Messages.CreateStreaming(parameters).Aggregate();
        Assert.True(aggregated.Content.Single().TryPickText(out var whole));
        Assert.Equal("Streaming through the gateway works.", whole.Text);
        Assert.Equal("end_turn", aggregated.StopReason?.Raw());
    }

    [Fact]
    public async Task Thinking_comes_as_a_thinking_block_before_the_text_block()
    {
        await using var cluster = await StartAsync();
        cluster.Fake.Scenarios.SetForToken(Token, new FakeScenario { Think = "Consider the question.", Text = "The answer.", ChunkSize = 4 });
        using var client = cluster.CreateAnthropicClient();

        Message message = await client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = Model,
            MaxTokens = 2000,
            Thinking = new ThinkingConfigEnabled(budgetTokens: 1024),
            Messages = [new UserMessageParam("why?")],
        }).Aggregate();

        Assert.Equal(2, message.Content.Count);
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("Consider the question.", thinking.Thinking);
        Assert.True(message.Content[1].TryPickText(out var text));
        Assert.Equal("The answer.", text.Text);
        Assert.Contains("<think></think>", cluster.Fake.Requests.All[^1].Body.Replace("\\u003C", "<", StringComparison.Ordinal).Replace("\\u003E", ">", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_tool_use_round_trip_ends_in_a_final_answer(bool stream)
    {
        await using var cluster = await StartAsync();
        cluster.Fake.Scenarios.Enqueue(Token,
            Says("Let me check. <tool_call name=\"get_weather\">{\"city\": \"Lima\"}</tool_call>"),
            Says("It is sunny in Lima."));
        using var client = cluster.CreateAnthropicClient();
        var first = new MessageCreateParams
        {
            Model = Model,
            MaxTokens = 500,
            Tools = [Weather, Time],
            Messages = [new UserMessageParam("Weather in Lima?")],
        };

        var reply = await SendAsync(client, first, stream);
        Assert.Equal("tool_use", reply.StopReason?.Raw());
        Assert.True(reply.Content[0].TryPickText(out var preamble));
        Assert.Equal("Let me check. ", preamble.Text);
        Assert.True(reply.Content[1].TryPickToolUse(out var toolUse));
        Assert.Equal("get_weather", toolUse.Name);
        Assert.Equal("Lima", toolUse.Input["city"].GetString());
        Assert.StartsWith("toolu_", toolUse.ID, StringComparison.Ordinal);

        var second = first with
        {
            Messages =
            [
                new UserMessageParam("Weather in Lima?"),
                new AssistantMessageParam(new List<ContentBlockParam>
                {
                    new TextBlockParam("Let me check. "),
                    new ToolUseBlockParam { ID = toolUse.ID, Name = toolUse.Name, Input = toolUse.Input },
                }),
                new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam(toolUse.ID) { Content = "sunny, 24C" } }),
            ],
        };
        var final = await SendAsync(client, second, stream);

        Assert.Equal("end_turn", final.StopReason?.Raw());
        Assert.True(final.Content.Single().TryPickText(out var answer));
        Assert.Equal("It is sunny in Lima.", answer.Text);
        var prompt = Prompt(cluster.Fake.Requests.All[^1].Body);
        Assert.Contains("<tool_call name=\"get_weather\">{\"city\":\"Lima\"}</tool_call>", prompt, StringComparison.Ordinal);
        Assert.Contains($"<tool_result name=\"get_weather\" id=\"{toolUse.ID}\">\nsunny, 24C\n</tool_result>", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_tool_calls_in_one_answer_are_two_tool_use_blocks()
    {
        await using var cluster = await StartAsync();
        cluster.Fake.Scenarios.SetForToken(Token, Says("<tool_call name=\"get_weather\">{\"city\":\"Oslo\"}</tool_call>\n<tool_call name=\"get_time\">{}</tool_call>"));
        using var client = cluster.CreateAnthropicClient();

        var reply = await SendAsync(client, new MessageCreateParams
        {
            Model = Model,
            MaxTokens = 500,
            Tools = [Weather, Time],
            Messages = [new UserMessageParam("weather and time")],
        }, stream: true);

        var uses = reply.Content.Select(b => b.TryPickToolUse(out var u) ? u : null).Where(u => u is not null).ToList();
        Assert.Equal(["get_weather", "get_time"], uses.Select(u => u!.Name));
        Assert.NotEqual(uses[0]!.ID, uses[1]!.ID);
    }

    [Fact]
    public async Task A_forced_tool_is_demanded_of_the_upstream()
    {
        await using var cluster = await StartAsync();
        using var client = cluster.CreateAnthropicClient();
        await client.Messages.Create(new MessageCreateParams
        {
            Model = Model,
            MaxTokens = 100,
            Tools = [Weather, Time],
            ToolChoice = new ToolChoiceTool("get_time"),
            Messages = [new UserMessageParam("hi")],
        });
        Assert.Contains("You must call the tool \"get_time\"", Prompt(cluster.Fake.Requests.All[^1].Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Count_tokens_is_close_to_the_tokenizers_own_count_of_system_messages_and_tools()
    {
        await using var cluster = await StartAsync();
        using var client = cluster.CreateAnthropicClient();
        const string system = "You are a meticulous assistant that answers questions about the weather in great detail.";
        const string user = "What will the weather be like in Reykjavik over the next three days, and should I pack an umbrella?";

        var plain = await client.Messages.CountTokens(new MessageCountTokensParams { Model = Model, System = system, Messages = [new UserMessageParam(user)] });
        var withTools = await client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = Model,
            System = system,
            Messages = [new UserMessageParam(user)],
            Tools = [Weather, Time],
        });

        var tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");
        var raw = tokenizer.CountTokens(system) + tokenizer.CountTokens(user);
        Assert.InRange(plain.InputTokens, raw, raw + 20);
        var schemas = tokenizer.CountTokens(JsonSerializer.Serialize(Weather.InputSchema)) + tokenizer.CountTokens("get_weather get_time Current weather for a city The current time");
        Assert.InRange(withTools.InputTokens, plain.InputTokens + schemas, plain.InputTokens + schemas + 250);
    }

    [Fact]
    public async Task Errors_reach_the_sdk_as_its_own_exception_types()
    {
        await using var cluster = await StartAsync();
        var parameters = new MessageCreateParams { Model = Model, MaxTokens = 10, Messages = [new UserMessageParam("hi")] };

        using (var wrongKey = cluster.CreateAnthropicClient("sk-wrong"))
        {
            var e = await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => wrongKey.Messages.Create(parameters));
            Assert.Equal("authentication_error", e.Type?.Raw());
        }

        using var client = cluster.CreateAnthropicClient();
        var notFound = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => client.Messages.Create(parameters with { Model = "claude-nonexistent" }));
        Assert.Equal("not_found_error", notFound.Type?.Raw());

        var badRequest = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(parameters with { MaxTokens = 0 }));
        Assert.Equal("invalid_request_error", badRequest.Type?.Raw());

        cluster.Fake.Scenarios.SetForToken(Token, FakeScenario.Parse("status=403"));
        var overloaded = await Assert.ThrowsAsync<AnthropicOverloadedException>(() => client.Messages.Create(parameters));
        Assert.Equal("overloaded_error", overloaded.Type?.Raw());
    }

    private static async Task<Message> SendAsync(AnthropicClient client, MessageCreateParams parameters, bool stream) =>
        stream ? await client.Messages.CreateStreaming(parameters).Aggregate() : await client.Messages.Create(parameters);

    private static string Prompt(string body) => string.Join("\n",
        JsonDocument.Parse(body).RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
}
