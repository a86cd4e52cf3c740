using System.Text;
using System.Text.RegularExpressions;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.Anthropic;
using Flowith2Api.ChatService.Dialects.Responses;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Flowith2Api.Tests.Unit;

/// <summary>
/// The Anthropic and Responses writers against golden wire transcripts (tests/Flowith2Api.Tests/Golden), byte for
/// byte: a streamed answer with reasoning, text and a tool call, a failure mid-stream, and the whole answers. Ids the
/// writers make at random are shown as <c>…_ID</c>. <c>UPDATE_GOLDEN=1</c> writes the transcripts anew.
/// </summary>
public sealed partial class WriterTranscriptTests
{
    private static readonly ToolCall Weather = new(0, "call_0123456789abcdef01234567", "get_weather", """{"city":"Paris"}""");
    private static readonly AnswerSummary Answer = new("It is \"mild\" — 18°C.\n", "Look it up.", [Weather], null, "");

    [Fact]
    public async Task Anthropic_stream_with_thinking_text_and_a_tool_use()
    {
        var text = await CaptureAsync(async response =>
        {
            using var writer = new AnthropicStreamWriter(response, "msg_golden", "claude-sonnet-4", "sess_1");
            await writer.WriteMessageStartAsync(12, default);
            await writer.WritePingAsync(default);
            await writer.WriteThinkingAsync("Look it ", default);
            await writer.WriteThinkingAsync("up.", default);
            await writer.WriteTextAsync("It is \"mild\" — ", default);
            await writer.WriteTextAsync("18°C.\n", default);
            await writer.WriteToolUseAsync(Weather, default);
            await writer.WriteFinishAsync(AnthropicResponseWriter.StopReason(AnswerFinish.ToolUse), null, new Usage(12, 30), default);
        });
        AssertGolden("anthropic-stream.txt", text);
    }

    [Fact]
    public async Task Anthropic_stream_that_fails_after_text()
    {
        var text = await CaptureAsync(async response =>
        {
            using var writer = new AnthropicStreamWriter(response, "msg_golden", "claude-sonnet-4");
            await writer.WriteMessageStartAsync(5, default);
            await writer.WriteTextAsync("Partial", default);
            await writer.WriteErrorAsync("api_error", "The upstream stream failed: connection reset", default);
        });
        AssertGolden("anthropic-stream-failed.txt", text);
    }

    [Theory]
    [InlineData(AnswerFinish.ToolUse, "anthropic-message-tool-use.json")]
    [InlineData(AnswerFinish.MaxTokens, "anthropic-message-max-tokens.json")]
    public async Task Anthropic_whole_message(AnswerFinish finish, string golden)
    {
        var answer = finish == AnswerFinish.ToolUse ? Answer : Answer with { ToolCalls = [] };
        var context = new DefaultHttpContext { TraceIdentifier = "req_golden" };
        var text = await CaptureAsync(response => AnthropicResponseWriter.WriteMessageAsync(response.HttpContext, "msg_golden", "claude-sonnet-4", answer, finish,
            new Usage(12, 30), "sess_1"), context);
        AssertGolden(golden, text);
    }

    [Fact]
    public async Task Responses_stream_with_reasoning_text_and_a_function_call()
    {
        var echo = Echo();
        var text = await CaptureAsync(async response =>
        {
            using var writer = new ResponsesStreamWriter(response, echo);
            await writer.StartAsync(default);
            await writer.WriteReasoningAsync("Look it ", default);
            await writer.WriteReasoningAsync("up.", default);
            await writer.WriteTextAsync("It is \"mild\" — ", default);
            await writer.WriteTextAsync("18°C.\n", default);
            await writer.WriteFunctionCallAsync(Weather, default);
            await writer.FinishAsync(Answer, new Usage(12, 30, 4), AnswerFinish.ToolUse, default);
        });
        AssertGolden("responses-stream.txt", text);
    }

    [Fact]
    public async Task Responses_stream_cut_at_the_budget_and_one_that_fails()
    {
        var echo = Echo();
        var incomplete = await CaptureAsync(async response =>
        {
            using var writer = new ResponsesStreamWriter(response, echo);
            await writer.StartAsync(default);
            await writer.WriteTextAsync("It is", default);
            await writer.FinishAsync(Answer with { Text = "It is", Reasoning = "", ToolCalls = [] }, new Usage(12, 2), AnswerFinish.MaxTokens, default);
        });
        AssertGolden("responses-stream-incomplete.txt", incomplete);

        var failed = await CaptureAsync(async response =>
        {
            using var writer = new ResponsesStreamWriter(response, echo);
            await writer.StartAsync(default);
            await writer.WriteTextAsync("Partial", default);
            await writer.FailAsync("upstream_stream_failed", "The upstream stream failed: connection reset", default);
        });
        AssertGolden("responses-stream-failed.txt", failed);
    }

    [Fact]
    public void Responses_whole_response()
    {
        var bytes = ResponsesWriter.Render(Echo(), "completed", Answer, new ResponseOutputIds(), new Usage(12, 30, 4), null);
        AssertGolden("responses-response.json", RandomIds().Replace(Encoding.UTF8.GetString(bytes.Span), "$1_ID"));
    }

    private static ResponseEcho Echo() => new("resp_golden", 1700000000, "gpt-4.1-mini", new ResponsesRequest
    {
        Model = "gpt-4.1-mini",
        Instructions = "Be brief.",
        Metadata = new Dictionary<string, string> { ["case"] = "golden" },
        MaxOutputTokens = 100,
    });

    private static async Task<string> CaptureAsync(Func<HttpResponse, Task> write, DefaultHttpContext? context = null)
    {
        context ??= new DefaultHttpContext { TraceIdentifier = "req_golden" };
        var body = new MemoryStream();
        context.Response.Body = body;
        await write(context.Response);
        await context.Response.BodyWriter.CompleteAsync();
        return RandomIds().Replace(Encoding.UTF8.GetString(body.ToArray()), "$1_ID");
    }

    private static void AssertGolden(string name, string actual)
    {
        var path = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "Flowith2Api.Tests", "Golden", name);
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
        }

        Assert.True(File.Exists(path), $"{path} exists (run with UPDATE_GOLDEN=1 to write it)");
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), actual.ReplaceLineEndings("\n"));
    }

    [GeneratedRegex("\\b(rs|msg|fc)_[0-9a-f]{32}\\b")]
    private static partial Regex RandomIds();
}
