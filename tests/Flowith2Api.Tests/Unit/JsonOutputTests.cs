using System.Text.Json;
using Flowith2Api.ChatService.Conversation;

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
}
