using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.ChatService;

/// <summary>
/// What the upstream does not enforce and every dialect must: the output token budget (the answer stops there, with
/// the dialect's "length" and usage that agrees) and the JSON modes (the content is the JSON itself, checked against a
/// schema; an answer that cannot be made valid is a clear error). Streamed and not, in all three dialects.
/// </summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class OutputSemanticsTests(GatewayClusterFixture fixture)
{
    private static readonly TokenCounter Tokens = new();
    private static readonly JsonSerializerOptions WithoutNulls = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    private static readonly string LongAnswer = string.Concat(Enumerable.Range(1, 150).Select(i => $"word{i} "));
    private const string Person = """{"name":"Ada","age":36}""";
    private const string PersonSchema = """{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}""";

    private GatewayCluster Cluster => fixture.Cluster;

    /// <summary>A prompt that makes the fake upstream answer <paramref name="text"/> in small chunks.</summary>
    private static string Scripted(string text) => $"[[fake:text={Uri.EscapeDataString(text)};chunk=5]] go";

    public static readonly TheoryData<string, bool> Dialects = new()
    {
        { "openai", false }, { "openai", true }, { "anthropic", false }, { "anthropic", true }, { "responses", false }, { "responses", true },
    };

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task The_answer_stops_at_the_token_budget_with_the_dialects_length_and_usage_that_agrees(string dialect, bool stream)
    {
        Assert.True(Tokens.CountText(LongAnswer) > 200, "the upstream's answer is well over the budget");
        var answer = await AskAsync(dialect, stream, Scripted(LongAnswer), maxTokens: 20);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.True(LongAnswer.StartsWith(answer.Text, StringComparison.Ordinal), $"a prefix of the upstream's answer: '{answer.Text}'");
        Assert.True(answer.Text.Length > 0);
        Assert.Equal(Tokens.CountText(answer.Text), answer.OutputTokens);
        Assert.InRange(answer.OutputTokens, 18, 20);
        Assert.Equal(dialect switch { "openai" => "length", "anthropic" => "max_tokens", _ => "incomplete" }, answer.Finish);
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task An_answer_within_the_budget_is_whole_and_ends_normally(string dialect, bool stream)
    {
        var answer = await AskAsync(dialect, stream, Scripted("A short answer."), maxTokens: 50);

        Assert.Equal("A short answer.", answer.Text);
        Assert.Equal(Tokens.CountText("A short answer."), answer.OutputTokens);
        Assert.Equal(dialect switch { "openai" => "stop", "anthropic" => "end_turn", _ => "completed" }, answer.Finish);
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task In_a_json_schema_mode_the_content_is_the_json_itself_even_when_the_model_fences_it_and_talks_around_it(string dialect, bool stream)
    {
        var wrapped = $"Sure! Here is the person you asked for:\n```json\n{Person}\n```\nLet me know if you need anything else.";
        var answer = await AskAsync(dialect, stream, Scripted(wrapped), format: "schema");

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(Person, answer.Text);
        Assert.Equal(36, JsonDocument.Parse(answer.Text).RootElement.GetProperty("age").GetInt32());
    }

    [Theory]
    [InlineData("openai", false)]
    [InlineData("openai", true)]
    [InlineData("responses", false)]
    [InlineData("responses", true)]
    public async Task In_json_object_mode_a_sentence_around_the_object_is_dropped(string dialect, bool stream)
    {
        var answer = await AskAsync(dialect, stream, Scripted($"The result is {Person}. Enjoy!"), format: "object");

        Assert.Equal(Person, answer.Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Anthropics_beta_output_format_is_still_honoured(bool stream)
    {
        var answer = await AskAsync("anthropic", stream, Scripted($"```json\n{Person}\n```"), format: "schema-beta");

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(Person, answer.Text);
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task An_answer_that_cannot_match_the_schema_is_a_clear_dialect_error_not_unparseable_text(string dialect, bool stream)
    {
        var answer = await AskAsync(dialect, stream, Scripted("""Here: {"name":"Ada"}"""), format: "schema");

        if (stream)
        {
            Assert.Equal(HttpStatusCode.OK, answer.Status); // the stream had started; the error comes in-band
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadGateway, answer.Status);
        }

        Assert.Equal("", answer.Text);
        Assert.NotNull(answer.Error);
        Assert.Contains("does not match the schema", answer.Error, StringComparison.Ordinal);
        Assert.Contains("age", answer.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schema_that_cannot_be_used_is_a_400_and_nothing_is_fetched_for_it()
    {
        using var http = Cluster.CreateClient();
        var before = Cluster.Fake.Requests.All.Count;
        using var response = await http.PostAsync("/v1/chat/completions", Json("""
            {"model":"flowith","messages":[{"role":"user","content":"hi"}],
             "response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"$ref":"http://169.254.169.254/latest/meta-data"}}}}
            """));
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Equal(before, Cluster.Fake.Requests.All.Count); // refused before any upstream call
    }

    private sealed record Answer(HttpStatusCode Status, string Text, int OutputTokens, string? Finish, string? Error);

    private async Task<Answer> AskAsync(string dialect, bool stream, string prompt, int? maxTokens = null, string? format = null)
    {
        using var http = Cluster.CreateClient();
        var schema = JsonDocument.Parse(PersonSchema).RootElement;
        object body = dialect switch
        {
            "openai" => new Dictionary<string, object?>
            {
                ["model"] = "flowith",
                ["stream"] = stream,
                ["messages"] = new[] { new { role = "user", content = prompt } },
                ["max_tokens"] = maxTokens,
                ["stream_options"] = stream ? new { include_usage = true } : null,
                ["response_format"] = format switch
                {
                    "schema" => new { type = "json_schema", json_schema = new { name = "person", schema, strict = true } },
                    "object" => (object)new { type = "json_object" },
                    _ => null,
                },
            },
            "anthropic" => new Dictionary<string, object?>
            {
                ["model"] = "claude-sonnet-4",
                ["stream"] = stream,
                ["max_tokens"] = maxTokens ?? 1000,
                ["messages"] = new[] { new { role = "user", content = prompt } },
                ["output_config"] = format == "schema" ? new { format = new { type = "json_schema", schema } } : null, // structured outputs as the API has them now
                ["output_format"] = format == "schema-beta" ? new { type = "json_schema", schema } : null, // and as the beta had them
            },
            _ => new Dictionary<string, object?>
            {
                ["model"] = "gpt-4.1-mini",
                ["stream"] = stream,
                ["input"] = prompt,
                ["max_output_tokens"] = maxTokens,
                ["store"] = false,
                ["text"] = format switch
                {
                    "schema" => new { format = new { type = "json_schema", name = "person", schema, strict = true } },
                    "object" => (object)new { format = new { type = "json_object" } },
                    _ => null,
                },
            },
        };
        var path = dialect switch { "openai" => "/v1/chat/completions", "anthropic" => "/v1/messages", _ => "/v1/responses" };
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = Json(JsonSerializer.Serialize(body, WithoutNulls)),
        };
        if (dialect == "anthropic")
        {
            request.Headers.Add("anthropic-version", "2023-06-01");
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await http.SendAsync(request, timeout.Token);
        var raw = await response.Content.ReadAsStringAsync(timeout.Token);
        if (!response.IsSuccessStatusCode)
        {
            using var error = JsonDocument.Parse(raw);
            return new Answer(response.StatusCode, "", 0, null, error.RootElement.GetProperty("error").GetProperty("message").GetString());
        }

        return stream ? ReadStream(dialect, response.StatusCode, raw) : ReadWhole(dialect, response.StatusCode, raw);
    }

    private static Answer ReadWhole(string dialect, HttpStatusCode status, string raw)
    {
        var root = JsonDocument.Parse(raw).RootElement;
        switch (dialect)
        {
            case "openai":
                var choice = root.GetProperty("choices")[0];
                return new Answer(status, choice.GetProperty("message").GetProperty("content").GetString() ?? "",
                    root.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), choice.GetProperty("finish_reason").GetString(), null);
            case "anthropic":
                return new Answer(status, string.Concat(root.GetProperty("content").EnumerateArray().Where(b => b.GetProperty("type").GetString() == "text")
                        .Select(b => b.GetProperty("text").GetString())),
                    root.GetProperty("usage").GetProperty("output_tokens").GetInt32(), root.GetProperty("stop_reason").GetString(), null);
            default:
                var text = string.Concat(root.GetProperty("output").EnumerateArray().Where(i => i.GetProperty("type").GetString() == "message")
                    .SelectMany(i => i.GetProperty("content").EnumerateArray()).Select(c => c.GetProperty("text").GetString()));
                var finish = root.GetProperty("status").GetString();
                if (finish == "incomplete")
                {
                    Assert.Equal("max_output_tokens", root.GetProperty("incomplete_details").GetProperty("reason").GetString());
                }

                return new Answer(status, text, root.GetProperty("usage").GetProperty("output_tokens").GetInt32(), finish, null);
        }
    }

    private static Answer ReadStream(string dialect, HttpStatusCode status, string raw)
    {
        var text = new StringBuilder();
        var outputTokens = -1;
        string? finish = null;
        string? error = null;
        foreach (var data in raw.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n').FirstOrDefault(l => l.StartsWith("data: ", StringComparison.Ordinal))?["data: ".Length..])
            .Where(d => d is not null and not "[DONE]"))
        {
            var root = JsonDocument.Parse(data!).RootElement;
            if (root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                error = e.GetProperty("message").GetString();
                continue;
            }

            switch (dialect)
            {
                case "openai":
                    if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                    {
                        outputTokens = usage.GetProperty("completion_tokens").GetInt32();
                    }

                    if (root.GetProperty("choices") is { } choices && choices.GetArrayLength() > 0)
                    {
                        var choice = choices[0];
                        if (choice.GetProperty("delta").TryGetProperty("content", out var content))
                        {
                            text.Append(content.GetString());
                        }

                        if (choice.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String)
                        {
                            finish = reason.GetString();
                        }
                    }

                    break;
                case "anthropic":
                    switch (root.GetProperty("type").GetString())
                    {
                        case "content_block_delta" when root.GetProperty("delta").GetProperty("type").GetString() == "text_delta":
                            text.Append(root.GetProperty("delta").GetProperty("text").GetString());
                            break;
                        case "message_delta":
                            finish = root.GetProperty("delta").GetProperty("stop_reason").GetString();
                            outputTokens = root.GetProperty("usage").GetProperty("output_tokens").GetInt32();
                            break;
                    }

                    break;
                default:
                    switch (root.GetProperty("type").GetString())
                    {
                        case "response.output_text.delta":
                            text.Append(root.GetProperty("delta").GetString());
                            break;
                        case "response.completed" or "response.incomplete":
                            var response = root.GetProperty("response");
                            finish = response.GetProperty("status").GetString();
                            outputTokens = response.GetProperty("usage").GetProperty("output_tokens").GetInt32();
                            break;
                        case "response.failed":
                            error ??= root.GetProperty("response").GetProperty("error").GetProperty("message").GetString();
                            break;
                    }

                    break;
            }
        }

        return new Answer(status, text.ToString(), outputTokens, finish, error);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
