using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Upstream.Seek;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowith2Api.Tests.Unit;

/// <summary>The tool-call parser on golden upstream texts, split at every possible chunk boundary.</summary>
public sealed class ToolCallParserTests
{
    private static readonly IReadOnlyList<ToolDefinition> Tools =
    [
        new("get_weather", "Weather for a city", JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]}""").RootElement),
        new("get_time", null, null),
    ];

    private static (string Text, List<ToolCall> Calls) Parse(IEnumerable<string> pieces)
    {
        var parser = new ToolCallParser(Tools, NullLogger.Instance);
        var text = "";
        var calls = new List<ToolCall>();
        var items = pieces.SelectMany(parser.Push).ToList();
        items.AddRange(parser.Flush());
        foreach (var (t, call) in items)
        {
            if (call is not null)
            {
                calls.Add(call);
            }
            else
            {
                text += t;
            }
        }

        return (text, calls);
    }

    /// <summary>Every way of cutting the text in two, plus one character at a time.</summary>
    private static IEnumerable<string[]> Splits(string text)
    {
        yield return [text];
        for (var i = 1; i < text.Length; i++)
        {
            yield return [text[..i], text[i..]];
        }

        yield return [.. text.Select(c => c.ToString())];
    }

    [Fact]
    public void A_call_is_found_wherever_the_chunks_are_cut_and_nothing_of_it_leaks_as_text()
    {
        const string upstream = "Let me check. <tool_call name=\"get_weather\">{\"city\": \"Paris\", \"days\": 2}</tool_call>";
        foreach (var pieces in Splits(upstream))
        {
            var (text, calls) = Parse(pieces);
            Assert.Equal("Let me check. ", text);
            var call = Assert.Single(calls);
            Assert.Equal("get_weather", call.Name);
            Assert.Equal("""{"city":"Paris","days":2}""", call.ArgumentsJson);
        }
    }

    [Fact]
    public void Two_calls_in_one_answer_are_two_calls_with_their_own_ids()
    {
        const string upstream = "<tool_call name=\"get_weather\">{\"city\":\"Oslo\"}</tool_call>\n<tool_call name=\"get_time\">{}</tool_call>";
        foreach (var pieces in Splits(upstream))
        {
            var (text, calls) = Parse(pieces);
            Assert.Equal("\n", text);
            Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.Name));
            Assert.NotEqual(calls[0].Id, calls[1].Id);
            Assert.Equal([0, 1], calls.Select(c => c.Index));
        }
    }

    [Theory]
    [InlineData("<tool_call name='get_weather'>```json\n{\"city\": \"Rome\",}\n```</tool_call>")]
    [InlineData("<tool_call name=\"get_weather\">{'city': 'Rome'}</tool_call>")]
    [InlineData("<tool_call name=\"get_weather\">{city: \"Rome\"}</tool_call>")]
    [InlineData("<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}</tool_call>")]
    [InlineData("<tool_call>{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Rome\\\"}\"}</tool_call>")]
    [InlineData("<tool_call name=\"get_weather\">{\"city\": \"Rome\"}")]
    public void Near_json_and_other_call_shapes_are_repaired(string upstream)
    {
        var (text, calls) = Parse([upstream]);
        Assert.Equal("", text);
        Assert.Equal("""{"city":"Rome"}""", Assert.Single(calls).ArgumentsJson);
    }

    [Theory]
    [InlineData("<tool_call name=\"launch_rockets\">{}</tool_call>")]
    [InlineData("<tool_call name=\"get_weather\">{\"days\": 3}</tool_call>")]
    [InlineData("<tool_call name=\"get_weather\">{\"city\": 42}</tool_call>")]
    [InlineData("<tool_call name=\"get_weather\">this is not json at all {{{</tool_call>")]
    public void Calls_to_unknown_tools_or_with_invalid_arguments_fall_back_to_text(string upstream)
    {
        var (text, calls) = Parse([upstream]);
        Assert.Empty(calls);
        Assert.Equal(upstream, text);
    }

    [Theory]
    [InlineData("Use <tool_calls> for lists and a < b and <tool_ and more")]
    [InlineData("ends with <tool_cal")]
    [InlineData("ends with <tool_call")]
    public void Text_that_only_resembles_a_call_is_passed_on_intact(string upstream)
    {
        foreach (var pieces in Splits(upstream))
        {
            var (text, calls) = Parse(pieces);
            Assert.Empty(calls);
            Assert.Equal(upstream, text);
        }
    }

    [Fact]
    public void The_pipeline_drops_what_the_model_writes_after_its_calls_and_keeps_reasoning_apart()
    {
        var request = new ConversationRequest
        {
            Messages = [new(ConversationRole.User, "weather?")],
            PublicModel = "flowith",
            Tools = Tools,
        };
        var pipeline = new AnswerPipeline(request, thinkingTags: true, NullLogger.Instance)
            .Complete("<think>need weather</think>Checking. <tool_call name=\"get_weather\">{\"city\":\"Paris\"}</tool_call>\n<tool_result>22C</tool_result> It is 22C.");

        Assert.Equal("need weather", pipeline.Reasoning);
        Assert.Equal("Checking. ", pipeline.Text);
        Assert.Single(pipeline.ToolCalls);
        Assert.Equal(AnswerFinish.ToolUse, pipeline.Finish(null, 10));
    }

    [Fact]
    public void Without_parallel_calls_only_the_first_call_is_kept()
    {
        var request = new ConversationRequest
        {
            Messages = [new(ConversationRole.User, "x")],
            PublicModel = "flowith",
            Tools = Tools,
            ParallelToolCalls = false,
        };
        var pipeline = new AnswerPipeline(request, thinkingTags: true, NullLogger.Instance)
            .Complete("<tool_call name=\"get_time\">{}</tool_call><tool_call name=\"get_weather\">{\"city\":\"Oslo\"}</tool_call>");
        Assert.Equal("get_time", Assert.Single(pipeline.ToolCalls).Name);
    }
}
