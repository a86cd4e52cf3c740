using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Flowith2Api.ChatService.Upstream.Seek;

namespace Flowith2Api.Tests.Unit;

public sealed class OpenAIRequestMapperTests
{
    private static (RequestError? Error, ConversationRequest Request) Map(string json, string? defaultModel = null)
    {
        var body = JsonSerializer.Deserialize(json, OpenAIJsonContext.Default.OpenAIChatRequest)!;
        var error = OpenAIRequestMapper.TryMap(body, defaultModel, out var request);
        return (error, request);
    }

    [Fact]
    public void Roles_map_onto_the_conversation_model_and_developer_counts_as_system()
    {
        var (error, request) = Map("""
            {"messages":[{"role":"developer","content":"rules"},{"role":"user","content":"q"},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
            {"role":"tool","tool_call_id":"c1","content":"result"}]}
            """);
        Assert.Null(error);
        Assert.Equal([ConversationRole.System, ConversationRole.User, ConversationRole.Assistant, ConversationRole.Tool],
            request.Messages.Select(m => m.Role));
        Assert.Equal("<tool_call name=\"f\">{}</tool_call>", SeekPrompt.Render(request.Messages[2]));
        Assert.Equal("<tool_result name=\"f\" id=\"c1\">\nresult\n</tool_result>", SeekPrompt.Render(request.Messages[3]));
    }

    [Fact]
    public void Content_parts_are_flattened_with_placeholders_for_images()
    {
        var (error, request) = Map("""
            {"messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"text","text":"now"}]}]}
            """);
        Assert.Null(error);
        Assert.Equal("look\n[image]\nnow", SeekPrompt.Render(request.Messages[0]));
    }

    [Fact]
    public void The_default_model_is_used_when_none_is_named_and_flowith_means_the_upstream_default()
    {
        var (_, named) = Map("""{"messages":[{"role":"user","content":"q"}]}""", defaultModel: "gpt-4.1");
        Assert.Equal("gpt-4.1", named.PublicModel);
        Assert.Equal("gpt-4.1", named.UpstreamModel);

        var (_, flowith) = Map("""{"messages":[{"role":"user","content":"q"}]}""");
        Assert.Equal("flowith", flowith.PublicModel);
        Assert.Null(flowith.UpstreamModel);
    }

    [Fact]
    public void Max_completion_tokens_wins_over_max_tokens_and_stop_accepts_a_string_or_a_list()
    {
        var (_, a) = Map("""{"max_tokens":10,"max_completion_tokens":20,"stop":"END","messages":[{"role":"user","content":"q"}]}""");
        Assert.Equal(20, a.MaxTokens);
        Assert.Equal(["END"], a.Stop);

        var (_, b) = Map("""{"stop":["a","b"],"messages":[{"role":"user","content":"q"}]}""");
        Assert.Equal(["a", "b"], b.Stop);

        var (error, _) = Map("""{"stop":["a","b","c","d","e"],"messages":[{"role":"user","content":"q"}]}""");
        Assert.Equal("stop", error?.Param);
    }

    [Fact]
    public void Unsupported_fields_are_accepted_and_ignored()
    {
        var (error, _) = Map("""
            {"messages":[{"role":"user","content":"q"}],"tools":[],"tool_choice":"auto","parallel_tool_calls":true,
             "response_format":{"type":"text"},"reasoning_effort":"low","user":"u1","session_id":"s","auto_session":false,"seed":3}
            """);
        Assert.Null(error);
    }
}
