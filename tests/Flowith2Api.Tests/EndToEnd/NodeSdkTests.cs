using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.EndToEnd;

/// <summary>
/// Runs <c>tests/node-clients/probe.mjs</c> once — the official Node SDKs (<c>openai</c>, <c>@anthropic-ai/sdk</c>),
/// which LobeChat, Cherry Studio, Claude Code and most agents are built on — against a real cluster, and keeps what
/// each scenario saw. Fails (never skips) when node or the packages are missing: <c>./build.sh test</c> installs them.
/// </summary>
public sealed class NodeSdkProbe() : NodeProbe("probe.mjs", "openai", "@anthropic-ai/sdk");

public sealed class NodeSdkTests(NodeSdkProbe probe) : IClassFixture<NodeSdkProbe>
{
    private static string? Text(JsonElement result, string name) => result.GetProperty(name).GetString();

    [Fact]
    public void OpenAI_chat_answers_with_the_upstream_text_and_usage()
    {
        var result = probe.Ok("openai.chat");
        Assert.Equal("Hello from Flowith.", Text(result, "text"));
        Assert.Equal("stop", Text(result, "finish"));
        Assert.Equal("chat.completion", Text(result, "object"));
        Assert.True(result.GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0, result.ToString());
    }

    [Fact]
    public void OpenAI_chat_streams_the_role_first_then_the_text_the_finish_and_the_usage()
    {
        var result = probe.Ok("openai.chat.stream");
        Assert.Equal("Streaming, chunk by chunk.", Text(result, "text"));
        Assert.Equal("assistant", Text(result, "role"));
        Assert.Equal("stop", Text(result, "finish"));
        Assert.True(result.GetProperty("chunks").GetInt32() > 5, result.ToString());
        Assert.True(result.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0, result.ToString());
    }

    [Fact]
    public void OpenAI_chat_gives_think_tags_as_reasoning_content()
    {
        var result = probe.Ok("openai.chat.reasoning");
        Assert.Equal("It is 4.", Text(result, "text"));
        Assert.Equal("Two plus two.", Text(result, "reasoning"));
    }

    [Fact]
    public void OpenAI_tool_calls_round_trip()
    {
        var result = probe.Ok("openai.chat.tools");
        Assert.Equal("tool_calls", Text(result, "finish"));
        Assert.Equal("get_weather", Text(result, "tool"));
        Assert.Equal("Paris", result.GetProperty("args").GetProperty("city").GetString());
        Assert.StartsWith("call_", Text(result, "id"), StringComparison.Ordinal);
        Assert.Equal("stop", Text(result, "finalFinish"));
        Assert.False(string.IsNullOrEmpty(Text(result, "finalText")));
    }

    [Fact]
    public void OpenAI_streamed_tool_call_deltas_assemble_in_the_sdks_stream_helper()
    {
        var result = probe.Ok("openai.chat.tools.stream");
        Assert.Equal("tool_calls", Text(result, "finish"));
        Assert.Equal("get_weather", Text(result, "tool"));
        Assert.Equal("Paris", result.GetProperty("args").GetProperty("city").GetString());
    }

    [Fact]
    public void OpenAI_responses_answer_stream_store_retrieve_and_continue()
    {
        var plain = probe.Ok("openai.responses");
        Assert.Equal("A response.", Text(plain, "text"));
        Assert.Equal("completed", Text(plain, "status"));
        Assert.Equal("response", Text(plain, "object"));

        var streamed = probe.Ok("openai.responses.stream");
        Assert.Equal("Streamed response.", Text(streamed, "text"));
        Assert.Equal("response.created", Text(streamed, "first"));
        Assert.Equal("response.completed", Text(streamed, "last"));
        Assert.Equal("Streamed response.", Text(streamed, "retrieved"));
        Assert.Equal("Second turn.", Text(streamed, "continued"));
    }

    [Fact]
    public void OpenAI_models_list_and_retrieve()
    {
        var result = probe.Ok("openai.models");
        Assert.Contains("flowith", result.GetProperty("ids").EnumerateArray().Select(id => id.GetString()));
        Assert.Equal("flowith", Text(result, "one"));
        Assert.Equal("model", Text(result, "object"));
    }

    [Fact]
    public void OpenAI_errors_arrive_as_the_sdks_typed_errors()
    {
        var result = probe.Ok("openai.errors");
        var auth = result.GetProperty("auth");
        Assert.Equal(401, auth.GetProperty("status").GetInt32());
        Assert.True(auth.GetProperty("isAuth").GetBoolean(), auth.ToString());
        var model = result.GetProperty("model");
        Assert.Equal(404, model.GetProperty("status").GetInt32());
        Assert.Equal("model_not_found", model.GetProperty("code").GetString());
        Assert.True(model.GetProperty("isNotFound").GetBoolean(), model.ToString());
        var invalid = result.GetProperty("invalid");
        Assert.Equal(400, invalid.GetProperty("status").GetInt32());
        Assert.True(invalid.GetProperty("isBadRequest").GetBoolean(), invalid.ToString());
    }

    [Fact]
    public void Anthropic_messages_answer_with_the_upstream_text()
    {
        var result = probe.Ok("anthropic.messages");
        Assert.Equal("Hello from Claude.", Text(result, "text"));
        Assert.Equal("end_turn", Text(result, "stop"));
        Assert.Equal("message", Text(result, "type"));
        Assert.Equal("assistant", Text(result, "role"));
        Assert.True(result.GetProperty("usage").GetProperty("output_tokens").GetInt32() > 0, result.ToString());
    }

    [Fact]
    public void Anthropic_streams_follow_the_event_order_the_sdk_expects()
    {
        var result = probe.Ok("anthropic.stream");
        Assert.Equal("Streaming Claude.", Text(result, "text"));
        Assert.Equal("Streaming Claude.", Text(result, "finalText"));
        Assert.Equal("end_turn", Text(result, "stop"));
        Assert.Equal("message_start", Text(result, "first"));
        Assert.Equal("message_stop", Text(result, "last"));
    }

    [Fact]
    public void Anthropic_thinking_comes_as_a_thinking_block_before_the_text()
    {
        var result = probe.Ok("anthropic.thinking");
        Assert.Equal(["thinking", "text"], result.GetProperty("blocks").EnumerateArray().Select(b => b.GetString()));
        Assert.Equal("Two plus two.", Text(result, "thinking"));
        Assert.Equal("It is 4.", Text(result, "text"));
    }

    [Fact]
    public void Anthropic_tool_use_round_trips_through_the_sdks_stream_helper()
    {
        var result = probe.Ok("anthropic.tools");
        Assert.Equal("tool_use", Text(result, "stop"));
        Assert.Equal("get_weather", Text(result, "tool"));
        Assert.Equal("Paris", result.GetProperty("input").GetProperty("city").GetString());
        Assert.StartsWith("toolu_", Text(result, "id"), StringComparison.Ordinal);
        Assert.Equal("end_turn", Text(result, "finalStop"));
    }

    [Fact]
    public void Anthropic_count_tokens_and_models()
    {
        Assert.True(probe.Ok("anthropic.count_tokens").GetProperty("input_tokens").GetInt32() > 0);
        Assert.NotEmpty(probe.Ok("anthropic.models").GetProperty("ids").EnumerateArray());
    }

    [Fact]
    public void Anthropic_errors_arrive_as_the_sdks_typed_errors()
    {
        var result = probe.Ok("anthropic.errors");
        var auth = result.GetProperty("auth");
        Assert.Equal(401, auth.GetProperty("status").GetInt32());
        Assert.Equal("authentication_error", auth.GetProperty("type").GetString());
        Assert.True(auth.GetProperty("isAuth").GetBoolean(), auth.ToString());
        var invalid = result.GetProperty("invalid");
        Assert.Equal(400, invalid.GetProperty("status").GetInt32());
        Assert.Equal("invalid_request_error", invalid.GetProperty("type").GetString());
        Assert.True(invalid.GetProperty("isBadRequest").GetBoolean(), invalid.ToString());
    }
}
