using System.Text;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Upstream;

namespace Flowith2Api.Tests.Unit;

/// <summary>The seek API's wire format, byte for byte.</summary>
public sealed class FlowithWireTests
{
    [Theory]
    [InlineData("""{"tag":"final","content":"Hel"}""", FlowithEventKind.Content, "Hel")]
    [InlineData("""{"content":"lo \"quoted\" \u00e9","tag":"final"}""", FlowithEventKind.Content, "lo \"quoted\" é")]
    [InlineData("""{"tag":"final","content":"[DONE]"}""", FlowithEventKind.Done, null)]
    [InlineData("[DONE]", FlowithEventKind.Done, null)]
    [InlineData("  [DONE]\r", FlowithEventKind.Done, null)]
    [InlineData("""{"tag":"searching","content":"Searching the web"}""", FlowithEventKind.Progress, null)]
    [InlineData("""{"tag":"seeds","content":[{"id":"1","tokens":3,"content":"x","order":0,"source_id":"s","source_title":"t","nip":false}]}""", FlowithEventKind.Progress, null)]
    [InlineData("""{"error":{"message":"quota exceeded"}}""", FlowithEventKind.Error, "quota exceeded")]
    [InlineData("""{"error":"boom"}""", FlowithEventKind.Error, "boom")]
    [InlineData("not json at all", FlowithEventKind.Progress, null)]
    [InlineData("", FlowithEventKind.Progress, null)]
    [InlineData("""{"tag":"final"}""", FlowithEventKind.Content, "")]
    public void Each_stream_event_is_classified(string data, FlowithEventKind kind, string? text)
    {
        var parsed = FlowithWire.ParseEvent(Encoding.UTF8.GetBytes(data));
        Assert.Equal(kind, parsed.Kind);
        if (text is not null)
        {
            Assert.Equal(text, parsed.Text);
        }
    }

    [Theory]
    [InlineData("""{"tag":"final","content":"whole answer"}""", "whole answer")]
    [InlineData("""{"answer":"from answer"}""", "from answer")]
    [InlineData("""{"message":"from message","tag":"final"}""", "from message")]
    [InlineData("""{"text":"from text"}""", "from text")]
    [InlineData("""{"answer":"second choice","content":"first choice"}""", "first choice")]
    [InlineData("\uFEFF{\"content\":\"after a BOM\"}", "after a BOM")]
    public void A_non_streaming_answer_is_read_from_any_of_its_field_names(string body, string expected) =>
        Assert.Equal(expected, FlowithWire.ParseCompleteAnswer(Encoding.UTF8.GetBytes(body)));

    [Theory]
    [InlineData("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>")]
    [InlineData("[1,2,3]")]
    [InlineData("""{"status":"ok"}""")]
    [InlineData("")]
    public void Bodies_that_are_not_an_answer_give_null(string body) =>
        Assert.Null(FlowithWire.ParseCompleteAnswer(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Html_error_pages_are_described_not_quoted()
    {
        var description = FlowithWire.DescribeErrorBody(Encoding.UTF8.GetBytes("<html><script>alert(1)</script></html>"), "text/html");
        Assert.Equal("an HTML error page", description);
    }

    [Fact]
    public void Json_error_messages_are_quoted_and_shortened()
    {
        var description = FlowithWire.DescribeErrorBody(Encoding.UTF8.GetBytes("{\"error\":{\"message\":\"" + new string('x', 500) + "\"}}"), "application/json");
        Assert.StartsWith("xxxx", description, StringComparison.Ordinal);
        Assert.True(description.Length <= 201);
    }

    [Fact]
    public void The_request_body_has_string_contents_a_kb_list_and_only_the_fields_that_are_set()
    {
        var request = new ConversationRequest
        {
            Messages =
            [
                new(ConversationRole.System, "Be brief."),
                new(ConversationRole.User, "Hi \"there\""),
                new(ConversationRole.Assistant, "Hello."),
                new(ConversationRole.Tool, "42"),
            ],
            PublicModel = "gpt-4.1",
            UpstreamModel = "gpt-4.1",
            MaxTokens = 100,
        };

        var body = Encoding.UTF8.GetString(FlowithWire.WriteRequestBody(request, ["kb-1"], stream: true));

        Assert.Equal(
            """{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi \u0022there\u0022"},{"role":"assistant","content":"Hello."},{"role":"user","content":"42"}],"kb_list":["kb-1"],"stream":true,"model":"gpt-4.1","max_tokens":100}""",
            body);
    }

    [Fact]
    public void Without_a_model_or_limit_neither_is_sent()
    {
        var request = new ConversationRequest { Messages = [new(ConversationRole.User, "x")], PublicModel = "flowith" };
        var body = Encoding.UTF8.GetString(FlowithWire.WriteRequestBody(request, ["kb"], stream: false));
        Assert.Equal("""{"messages":[{"role":"user","content":"x"}],"kb_list":["kb"],"stream":false}""", body);
    }

    [Theory]
    [InlineData(null, null, "https://edge.flowith.net/external/use/knowledge-base/seek")]
    [InlineData(null, "us-west", "https://us-west.edge.flowith.net/external/use/knowledge-base/seek")]
    [InlineData("http://127.0.0.1:9000/", "ignored", "http://127.0.0.1:9000/external/use/knowledge-base/seek")]
    [InlineData("https://proxy.example.com/flowith/", null, "https://proxy.example.com/flowith/external/use/knowledge-base/seek")]
    public void The_origin_comes_from_flowith_base_then_region_then_the_default(string? flowithBase, string? region, string seek)
    {
        var options = new FlowithOptions { Origin = FlowithOptions.ResolveOrigin(flowithBase, region) };
        Assert.Equal(seek, options.SeekUri.ToString());
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://example.com")]
    public void A_flowith_base_that_is_not_an_http_url_is_refused_at_start(string flowithBase) =>
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => FlowithOptions.ResolveOrigin(flowithBase, null));
}
