using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.EndToEnd;

/// <summary>
/// Runs <c>tests/node-clients/ai-sdk.mjs</c> once — the Vercel AI SDK (<c>ai</c>, <c>@ai-sdk/openai</c>,
/// <c>@ai-sdk/anthropic</c>), which most TypeScript agents and chat apps are built on — against a real cluster, through
/// each of its three wire APIs, and keeps what each scenario saw. Fails (never skips) when node or the packages are
/// missing: <c>./build.sh test</c> installs them.
/// </summary>
public sealed class AiSdkProbe() : NodeProbe("ai-sdk.mjs", "ai", "@ai-sdk/openai", "@ai-sdk/anthropic");

public sealed class AiSdkTests(AiSdkProbe probe) : IClassFixture<AiSdkProbe>
{
    /// <summary>The three providers the probe drives: OpenAI chat completions, OpenAI Responses, Anthropic messages.</summary>
    public static TheoryData<string> Apis => new() { "chat", "responses", "anthropic" };

    /// <summary>The long answer the budget scenarios cut short (as ai-sdk.mjs builds it).</summary>
    private static readonly string Long = string.Join(' ', Enumerable.Range(1, 120).Select(i => $"Sentence number {i} keeps the answer going."));

    private static void AssertParis(JsonElement result)
    {
        var city = result.GetProperty("object");
        Assert.Equal("Paris", city.GetProperty("name").GetString());
        Assert.Equal(2102650, city.GetProperty("population").GetInt32());
        Assert.Equal(["Eiffel Tower", "Louvre"], city.GetProperty("landmarks").EnumerateArray().Select(l => l.GetString()));
    }

    [Theory]
    [MemberData(nameof(Apis))]
    public void GenerateObject_gets_the_schema_object_out_of_a_fenced_answer(string api)
    {
        var result = probe.Ok($"{api}.generateObject");
        AssertParis(result);
        Assert.Equal("stop", result.GetProperty("finish").GetString());
    }

    [Theory]
    [MemberData(nameof(Apis))]
    public void StreamObject_streams_partial_objects_and_ends_with_the_schema_object(string api)
    {
        var result = probe.Ok($"{api}.streamObject");
        AssertParis(result);
        Assert.True(result.GetProperty("partials").GetInt32() > 1, result.ToString());
        Assert.Equal("stop", result.GetProperty("finish").GetString());
    }

    [Theory]
    [MemberData(nameof(Apis))]
    public void GenerateText_with_maxOutputTokens_stops_at_the_budget_with_a_length_finish(string api)
    {
        var result = probe.Ok($"{api}.generateText.maxOutputTokens");
        AssertCutAtBudget(result);
    }

    [Theory]
    [MemberData(nameof(Apis))]
    public void StreamText_with_maxOutputTokens_stops_at_the_budget_with_a_length_finish(string api)
    {
        var result = probe.Ok($"{api}.streamText.maxOutputTokens");
        AssertCutAtBudget(result);
    }

    [Theory]
    [MemberData(nameof(Apis))]
    public void GenerateText_answers_with_the_upstream_text_and_usage(string api)
    {
        var result = probe.Ok($"{api}.generateText");
        Assert.Equal("Hello from the AI SDK.", result.GetProperty("text").GetString());
        Assert.Equal("stop", result.GetProperty("finish").GetString());
        Assert.True(result.GetProperty("usage").GetProperty("input").GetInt32() > 0, result.ToString());
        Assert.True(result.GetProperty("usage").GetProperty("output").GetInt32() > 0, result.ToString());
    }

    private static void AssertCutAtBudget(JsonElement result)
    {
        var text = result.GetProperty("text").GetString()!;
        Assert.Equal("length", result.GetProperty("finish").GetString());
        Assert.False(string.IsNullOrEmpty(text), result.ToString());
        Assert.True(text.Length < Long.Length / 4, result.ToString());
        Assert.StartsWith(text, Long, StringComparison.Ordinal);
        var output = result.GetProperty("usage").GetProperty("output").GetInt32();
        Assert.InRange(output, 1, 20);
    }
}
