using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Upstream;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowith2Api.Tests.Unit;

public sealed class JsonOutputTests
{
    private static readonly OutputFormat Schema = OutputFormat.ForSchema(
        JsonDocument.Parse("""{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}""").RootElement, out _)!;

    [Theory]
    [InlineData("""{"n":1}""", """{"n":1}""")]
    [InlineData("""  {"n":1}  """, """{"n":1}""")]
    [InlineData("```json\n{\"n\":1}\n```", """{"n":1}""")]
    [InlineData("```\n{\"n\":1}\n```\nDone.", """{"n":1}""")]
    [InlineData("""Here it is: {"n":1}. Anything else?""", """{"n":1}""")]
    [InlineData("""First {"x":2} was wrong, then {"n":3} was right.""", """{"n":3}""")]
    [InlineData("""{"n": {"not": "an integer"}} and {"n": 4}""", """{"n": 4}""")]
    public void The_first_json_value_that_fits_the_format_is_the_answer(string text, string expected)
    {
        Assert.Equal(expected, JsonOutput.Extract(text, Schema, out var problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("no json here", "holds no JSON")]
    [InlineData("""{"n":"one"}""", "does not match the schema")]
    [InlineData("""{"n":1""", "holds no JSON")]
    public void Text_without_a_fitting_value_says_what_is_wrong(string text, string problemPart)
    {
        Assert.Null(JsonOutput.Extract(text, Schema, out var problem));
        Assert.Contains(problemPart, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_object_mode_takes_an_object_and_nothing_else()
    {
        Assert.Equal("""{"a":[1,2]}""", JsonOutput.Extract("""[1,2] then {"a":[1,2]}""", OutputFormat.JsonObject, out _));
        Assert.Null(JsonOutput.Extract("[1,2]", OutputFormat.JsonObject, out var problem));
        Assert.Contains("not an object", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"$ref":"http://169.254.169.254/latest"}""")]
    [InlineData("""{"$ref":"#/$defs/missing"}""")]
    [InlineData("""[1,2]""")]
    public void A_schema_that_cannot_be_used_is_refused_up_front(string schema)
    {
        Assert.Null(OutputFormat.ForSchema(JsonDocument.Parse(schema).RootElement, out var problem));
        Assert.NotNull(problem);
    }

    /// <summary>A streamed answer in the JSON schema mode, cut into pieces of <paramref name="chunk"/> characters.</summary>
    private static (List<string> Texts, AnswerPipeline Pipeline) Stream(string answer, int chunk)
    {
        var request = new ConversationRequest { Messages = [new(ConversationRole.User, "x")], PublicModel = "flowith", Stream = true, Format = Schema };
        var pipeline = new AnswerPipeline(request, thinkingTags: true, NullLogger.Instance);
        var texts = new List<string>();
        for (var i = 0; i < answer.Length && !pipeline.Finished; i += chunk)
        {
            texts.AddRange(pipeline.Push(answer.Substring(i, Math.Min(chunk, answer.Length - i))).Select(e => e.Text));
        }

        texts.AddRange(pipeline.Flush().Select(e => e.Text));
        return (texts, pipeline);
    }

    [Theory]
    [InlineData("{\"n\": 12, \"s\": \"a } in a string, and a \\\" quote {\"}", "{\"n\": 12, \"s\": \"a } in a string, and a \\\" quote {\"}")]
    [InlineData("```json\n{\"n\": 12, \"tags\": [\"x\", \"y\"]}\n```\nLet me know if you need more.", "{\"n\": 12, \"tags\": [\"x\", \"y\"]}")]
    [InlineData("Here is the object you asked for:\n\n{\"n\": 12,\n  \"deep\": {\"a\": [1, {\"b\": 2}]}}\nThat is all.", "{\"n\": 12,\n  \"deep\": {\"a\": [1, {\"b\": 2}]}}")]
    public void A_streamed_json_answer_goes_out_as_it_comes_without_its_fence_or_prose(string answer, string json)
    {
        foreach (var chunk in new[] { 1, 2, 3, 7, 1000 })
        {
            var (texts, pipeline) = Stream(answer, chunk);
            Assert.Equal(json, string.Concat(texts));
            Assert.Equal(json, pipeline.Text);
            if (chunk < 4)
            {
                Assert.True(texts.Count(t => t.Length > 0) > 3, $"chunk {chunk}: the JSON streamed in pieces, not at the end");
            }
        }
    }

    [Fact]
    public void A_streamed_answer_whose_json_sits_inside_a_sentence_is_held_and_extracted_at_the_end()
    {
        var (texts, _) = Stream("""Sure, the answer is {"n": 5} as you see.""", 3);
        Assert.Equal(["""{"n": 5}"""], texts.Where(t => t.Length > 0));
    }

    [Theory]
    [InlineData("{\"s\": \"no n\"}", "does not match the schema")]
    [InlineData("{\"n\": 1, \"open\": [1, 2", "does not end")]
    [InlineData("{n: 1}", "not valid JSON")]
    public void A_streamed_json_answer_that_is_not_what_the_schema_asks_for_ends_in_an_error(string answer, string problem)
    {
        var error = Assert.Throws<UpstreamException>(() => Stream(answer, 4));
        Assert.Equal(UpstreamFailureKind.InvalidOutput, error.Kind);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Once_the_streamed_json_closes_the_pipeline_is_finished_and_reading_can_stop()
    {
        var request = new ConversationRequest { Messages = [new(ConversationRole.User, "x")], PublicModel = "flowith", Stream = true, Format = Schema };
        var pipeline = new AnswerPipeline(request, thinkingTags: true, NullLogger.Instance);
        pipeline.Push("{\"n\": 1}");
        Assert.True(pipeline.Finished);
        Assert.Empty(pipeline.Push(" and more text"));
    }

    private static readonly ToolDefinition JsonTool = new("json", "Respond with a JSON object.",
        JsonDocument.Parse("""{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}""").RootElement);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void When_one_tool_is_forced_and_the_model_answers_with_its_arguments_as_json_the_answer_is_the_call(bool stream)
    {
        var request = new ConversationRequest
        {
            Messages = [new(ConversationRole.User, "x")],
            PublicModel = "claude-sonnet-4",
            Stream = stream,
            Tools = [JsonTool],
            ToolChoice = new ToolChoice(ToolChoiceMode.Specific, "json"),
        };
        var pipeline = new AnswerPipeline(request, thinkingTags: true, NullLogger.Instance);
        var events = pipeline.Push("Here you go:\n```json\n{\"name\": ").Concat(pipeline.Push("\"Paris\"}\n```")).Concat(pipeline.Flush()).ToList();

        var call = Assert.Single(events).Call;
        Assert.NotNull(call);
        Assert.Equal("json", call.Name);
        Assert.Equal("Paris", JsonDocument.Parse(call.ArgumentsJson).RootElement.GetProperty("name").GetString());
        Assert.Equal("", pipeline.Text);
        Assert.Equal(AnswerFinish.ToolUse, pipeline.Finish(null, 10));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void In_a_json_mode_a_forced_tool_answered_with_its_arguments_is_the_call_not_an_error(bool stream)
    {
        var request = new ConversationRequest
        {
            Messages = [new(ConversationRole.User, "x")],
            PublicModel = "flowith",
            Stream = stream,
            Format = OutputFormat.JsonObject,
            Tools = [JsonTool],
            ToolChoice = new ToolChoice(ToolChoiceMode.Specific, "json"),
        };
        var pipeline = new AnswerPipeline(request, thinkingTags: true, NullLogger.Instance).Complete("""{"name": "Oslo"}""");
        Assert.Equal("Oslo", JsonDocument.Parse(Assert.Single(pipeline.ToolCalls).ArgumentsJson).RootElement.GetProperty("name").GetString());
        Assert.Equal("", pipeline.Text);
    }

    [Fact]
    public void A_forced_tool_answer_that_is_neither_a_call_nor_its_arguments_stays_text()
    {
        var request = new ConversationRequest
        {
            Messages = [new(ConversationRole.User, "x")],
            PublicModel = "flowith",
            Tools = [JsonTool],
            ToolChoice = new ToolChoice(ToolChoiceMode.Required),
        };
        var pipeline = new AnswerPipeline(request, thinkingTags: true, NullLogger.Instance).Complete("""I cannot do that: {"city": 1}""");
        Assert.Equal("""I cannot do that: {"city": 1}""", pipeline.Text);
        Assert.Empty(pipeline.ToolCalls);
        Assert.Equal(AnswerFinish.EndTurn, pipeline.Finish(null, 10));
    }

    [Fact]
    public void Text_before_a_real_call_to_a_forced_tool_is_text_and_the_call_is_the_call()
    {
        var request = new ConversationRequest
        {
            Messages = [new(ConversationRole.User, "x")],
            PublicModel = "flowith",
            Tools = [JsonTool],
            ToolChoice = new ToolChoice(ToolChoiceMode.Specific, "json"),
        };
        var pipeline = new AnswerPipeline(request, thinkingTags: true, NullLogger.Instance)
            .Complete("Calling. <tool_call name=\"json\">{\"name\":\"Rome\"}</tool_call>");
        Assert.Equal("Calling. ", pipeline.Text);
        Assert.Equal("Rome", JsonDocument.Parse(Assert.Single(pipeline.ToolCalls).ArgumentsJson).RootElement.GetProperty("name").GetString());
    }
}
