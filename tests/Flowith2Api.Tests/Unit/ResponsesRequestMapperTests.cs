using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.Responses;
using Flowith2Api.ChatService.Upstream.Seek;

namespace Flowith2Api.Tests.Unit;

public sealed class ResponsesRequestMapperTests
{
    private static ResponsesRequest Parse(string json) =>
        JsonSerializer.Deserialize(json, ResponsesJsonContext.Default.ResponsesRequest)!;

    [Fact]
    public void A_string_input_with_instructions_is_a_system_and_a_user_message()
    {
        var error = ResponsesRequestMapper.TryMap(Parse("""
            {"model":"gpt-4.1-mini","instructions":"Be brief.","input":"Hello","max_output_tokens":50,"temperature":0.2,"top_p":0.9,"stream":true}
            """), null, out var request);

        Assert.Null(error);
        Assert.Equal([new ConversationMessage(ConversationRole.System, "Be brief."), new ConversationMessage(ConversationRole.User, "Hello")], request.Messages);
        Assert.Equal("gpt-4.1-mini", request.PublicModel);
        Assert.Equal(50, request.MaxTokens);
        Assert.Equal(0.2, request.Temperature);
        Assert.Equal(0.9, request.TopP);
        Assert.True(request.Stream);
        Assert.False(request.WantsReasoning);
    }

    [Fact]
    public void Message_items_with_parts_and_a_function_call_round_trip_become_turns()
    {
        var error = ResponsesRequestMapper.TryMap(Parse("""
            {"input":[
              {"role":"developer","content":"Use tools."},
              {"type":"message","role":"user","content":[{"type":"input_text","text":"Weather in Paris?"},{"type":"input_image","image_url":"https://x/y.png"}]},
              {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
              {"type":"function_call_output","call_id":"call_1","output":"18C"},
              {"role":"assistant","content":[{"type":"output_text","text":"It is 18C."}]}
            ],
            "tools":[{"type":"function","name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}],
            "tool_choice":{"type":"function","name":"get_weather"},
            "reasoning":{"effort":"high","summary":"auto"}}
            """), "flowith", out var request);

        Assert.Null(error);
        Assert.Equal(5, request.Messages.Count);
        Assert.Equal(ConversationRole.System, request.Messages[0].Role);
        Assert.Equal("Weather in Paris?\n[image]", SeekPrompt.Render(request.Messages[1]));
        Assert.Equal(ConversationRole.Assistant, request.Messages[2].Role);
        Assert.Contains("get_weather", SeekPrompt.Render(request.Messages[2]), StringComparison.Ordinal);
        Assert.Equal(ConversationRole.Tool, request.Messages[3].Role);
        Assert.Contains("18C", SeekPrompt.Render(request.Messages[3]), StringComparison.Ordinal);
        Assert.Contains("get_weather", SeekPrompt.Render(request.Messages[3]), StringComparison.Ordinal); // the result names its call
        Assert.Equal("It is 18C.", SeekPrompt.Render(request.Messages[4]));
        var tool = Assert.Single(request.Tools);
        Assert.Equal("get_weather", tool.Name);
        Assert.Equal(ToolChoiceMode.Specific, request.ToolChoice.Mode);
        Assert.True(request.WantsReasoning);
    }

    [Fact]
    public void A_json_schema_text_format_becomes_an_output_instruction()
    {
        var error = ResponsesRequestMapper.TryMap(Parse("""
            {"input":"x","text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object","properties":{"a":{"type":"integer"}}},"strict":true}}}
            """), null, out var request);

        Assert.Null(error);
        Assert.Contains("\"integer\"", request.Format.Instruction, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"m"}""", "input")]
    [InlineData("""{"input":42}""", "input")]
    [InlineData("""{"input":[]}""", "input")]
    [InlineData("""{"input":[{"role":"robot","content":"hi"}]}""", "input[0].role")]
    [InlineData("""{"input":[{"role":"user"}]}""", "input[0].content")]
    [InlineData("""{"input":[{"type":"item_reference","id":"x"}]}""", "input[0].type")]
    [InlineData("""{"input":[{"type":"function_call_output","output":"x"}]}""", "input[0].call_id")]
    [InlineData("""{"input":"x","max_output_tokens":0}""", "max_output_tokens")]
    [InlineData("""{"input":"x","temperature":3}""", "temperature")]
    [InlineData("""{"input":"x","top_p":-1}""", "top_p")]
    [InlineData("""{"input":"x","reasoning":{"effort":"extreme"}}""", "reasoning.effort")]
    [InlineData("""{"input":"x","tools":[{"type":"file_search"}]}""", "tools[0]")]
    [InlineData("""{"input":"x","tools":[{"type":"namespace","name":"n","tools":[{"type":"custom","name":"c"}]}]}""", "tools[0].tools[0]")]
    [InlineData("""{"input":"x","tools":[{"type":"function"}]}""", "tools[0].name")]
    [InlineData("""{"input":"x","tool_choice":"required"}""", "tool_choice")]
    [InlineData("""{"input":"x","tools":[{"type":"function","name":"a"}],"tool_choice":{"type":"function","name":"b"}}""", "tool_choice")]
    [InlineData("""{"input":"x","text":{"format":{"type":"yaml"}}}""", "text.format.type")]
    [InlineData("""{"input":"x","text":{"format":{"type":"json_schema","name":"n"}}}""", "text.format.schema")]
    public void Bad_requests_name_the_parameter(string json, string param)
    {
        var error = ResponsesRequestMapper.TryMap(Parse(json), null, out _);

        Assert.NotNull(error);
        Assert.Equal(param, error.Param);
    }

    [Fact]
    public void A_continuation_may_send_no_new_input()
    {
        Assert.Null(ResponsesRequestMapper.TryMap(Parse("""{"previous_response_id":"resp_1","instructions":"Go on."}"""), null, out var request));
        Assert.Single(request.Messages);
    }
}
