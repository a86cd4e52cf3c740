#pragma warning disable OPENAI001 // the SDK's Responses client is marked for evaluation
using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Responses;

public sealed class ResponsesApiTests : IClassFixture<GatewayClusterFixture>
{
    private readonly GatewayClusterFixture _shared;

    public ResponsesApiTests(GatewayClusterFixture shared) => _shared = shared;

    private GatewayCluster Cluster => _shared.Cluster;

    [Fact]
    public async Task The_official_sdk_gets_a_plain_text_response_through_the_gateway()
    {
        var client = Cluster.CreateOpenAIResponsesClient();

        var result = (await client.CreateResponseAsync("gpt-4.1-mini", "Say hello.", null)).Value;

        Assert.Equal(OpenAI.Responses.ResponseStatus.Completed, result.Status);
        Assert.Equal("gpt-4.1-mini", result.Model);
        Assert.False(string.IsNullOrEmpty(result.GetOutputText()));
        Assert.StartsWith("resp_", result.Id, StringComparison.Ordinal);
        Assert.True(result.Usage.InputTokenCount > 0);
        Assert.True(result.Usage.OutputTokenCount > 0);
        var seek = Cluster.Fake.Requests.All.Last(r => r.Path.EndsWith("/seek", StringComparison.Ordinal));
        Assert.Contains("Say hello.", seek.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Think_tags_become_a_reasoning_item_with_its_summary_and_the_text_a_message()
    {
        using var http = Cluster.CreateClient();
        var requestId = "req-responses-think-" + Guid.NewGuid().ToString("N");
        Cluster.Fake.Scenarios.ForRequestId(requestId, FakeScenario.Parse("text=%3Cthink%3EConsider%20it.%3C%2Fthink%3EThe%20answer."));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent("""{"model":"gpt-4.1-mini","input":[{"role":"user","content":[{"type":"input_text","text":"Think first."}]}],"reasoning":{"effort":"high","summary":"auto"},"metadata":{"ticket":"42"}}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-request-id", requestId);

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal("response", root.GetProperty("object").GetString());
        Assert.Equal("completed", root.GetProperty("status").GetString());
        Assert.Equal("42", root.GetProperty("metadata").GetProperty("ticket").GetString());
        var output = root.GetProperty("output").EnumerateArray().ToList();
        Assert.Equal(["reasoning", "message"], output.Select(o => o.GetProperty("type").GetString()));
        Assert.Equal("Consider it.", output[0].GetProperty("summary")[0].GetProperty("text").GetString());
        Assert.Equal("The answer.", output[1].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("output_text", output[1].GetProperty("content")[0].GetProperty("type").GetString());
        Assert.True(root.GetProperty("usage").GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task The_official_sdk_streams_a_response_whose_deltas_add_up_to_the_final_text()
    {
        var client = Cluster.CreateOpenAIResponsesClient();
        var deltas = new System.Text.StringBuilder();
        OpenAI.Responses.ResponseResult? completed = null;

        await foreach (var update in await client.CreateResponseStreamingAsync("gpt-4.1-mini", "Stream please.", null))
        {
            switch (update)
            {
                case OpenAI.Responses.StreamingResponseOutputTextDeltaUpdate delta:
                    deltas.Append(delta.Delta);
                    break;
                case OpenAI.Responses.StreamingResponseCompletedUpdate done:
                    completed = done.Response;
                    break;
            }
        }

        Assert.NotNull(completed);
        Assert.Equal(OpenAI.Responses.ResponseStatus.Completed, completed.Status);
        Assert.False(string.IsNullOrEmpty(completed.GetOutputText()));
        Assert.Equal(completed.GetOutputText(), deltas.ToString());
        Assert.True(completed.Usage.OutputTokenCount > 0);
    }

    [Fact]
    public async Task A_stream_sends_the_events_in_order_with_increasing_sequence_numbers_reasoning_first()
    {
        using var http = Cluster.CreateClient();
        var requestId = "req-responses-stream-" + Guid.NewGuid().ToString("N");
        Cluster.Fake.Scenarios.ForRequestId(requestId, FakeScenario.Parse("text=%3Cthink%3EHmm.%3C%2Fthink%3EDone%20here.;chunk=3"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent("""{"model":"gpt-4.1-mini","input":"Go.","stream":true}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-request-id", requestId);

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            var lines = block.Split('\n');
            var name = lines.Single(l => l.StartsWith("event: ", StringComparison.Ordinal))["event: ".Length..];
            var data = JsonDocument.Parse(lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..]).RootElement.Clone();
            Assert.Equal(name, data.GetProperty("type").GetString());
            return (Name: name, Data: data);
        }).ToList();

        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()));
        var order = events.Select(e => e.Name).Where((n, i) => i == 0 || n != events[i - 1].Name).ToList(); // deltas collapsed
        Assert.Equal(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done",
            "response.content_part.done", "response.output_item.done", "response.completed",
        ], order);
        Assert.Equal("Hmm.", string.Concat(events.Where(e => e.Name == "response.reasoning_summary_text.delta").Select(e => e.Data.GetProperty("delta").GetString())));
        Assert.Equal("Done here.", string.Concat(events.Where(e => e.Name == "response.output_text.delta").Select(e => e.Data.GetProperty("delta").GetString())));
        var final = events[^1].Data.GetProperty("response");
        Assert.Equal("completed", final.GetProperty("status").GetString());
        var items = final.GetProperty("output").EnumerateArray().ToList();
        Assert.Equal(events.First(e => e.Name == "response.output_item.added").Data.GetProperty("item").GetProperty("id").GetString(),
            items[0].GetProperty("id").GetString());
        Assert.Equal("Done here.", items[1].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(events[0].Data.GetProperty("response").GetProperty("id").GetString(), final.GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("""{"model":"gpt-4.1-mini"}""", "input")]
    [InlineData("""{"input":[{"role":"robot","content":"x"}]}""", "input[0].role")]
    [InlineData("""{"input":"x","max_output_tokens":-1}""", "max_output_tokens")]
    [InlineData("""{"input":"x","previous_response_id":"resp_123"}""", "previous_response_id")]
    [InlineData("""not json""", null)]
    public async Task Bad_input_is_a_400_in_openai_error_format(string body, string? param)
    {
        using var http = Cluster.CreateClient();

        using var response = await http.PostAsync("/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        if (param is not null)
        {
            Assert.Equal(param, error.GetProperty("param").GetString());
        }
    }

    [Fact]
    public async Task Without_redis_responses_are_stored_in_the_process_and_continued()
    {
        var client = Cluster.CreateOpenAIResponsesClient();

        var first = (await client.CreateResponseAsync("gpt-4.1-mini", "In memory one.", null)).Value;
        var second = (await client.CreateResponseAsync("gpt-4.1-mini", "In memory two.", first.Id)).Value;

        Assert.Equal(first.Id, second.PreviousResponseId);
        var seek = Cluster.Fake.Requests.All.Last(r => r.Path.EndsWith("/seek", StringComparison.Ordinal));
        Assert.Contains("In memory one.", seek.Body, StringComparison.Ordinal);
        Assert.Contains("fake-flowith reply to: In memory one.", seek.Body, StringComparison.Ordinal);
        Assert.Equal(second.GetOutputText(), (await client.GetResponseAsync(second.Id)).Value.GetOutputText());
        Assert.True((await client.DeleteResponseAsync(first.Id)).Value.Deleted);
        var gone = await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() => client.GetResponseAsync(first.Id));
        Assert.Equal(404, gone.Status);
    }

    [Fact]
    public async Task A_response_needs_a_client_key()
    {
        using var anonymous = Cluster.CreateClient(apiKey: null);

        using var response = await anonymous.PostAsync("/v1/responses", new StringContent("""{"input":"x"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
