using System.Net;
using System.Text.Json;
using Flowith2Api.FakeFlowith;
using static Flowith2Api.Tests.FakeFlowith.FakeFlowithTestSupport;

namespace Flowith2Api.Tests.FakeFlowith;

public sealed class FakeFlowithNonStreamingTests(FakeFlowithServerFixture fixture) : IClassFixture<FakeFlowithServerFixture>
{
    private readonly FakeFlowithServer _server = fixture.Server;

    [Fact]
    public async Task A_non_streaming_answer_is_one_json_object_with_tag_final()
    {
        using var client = Client(_server, NewToken());

        var (response, body) = await SeekAsync(client, "ping", stream: false);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"tag\":\"final\",\"content\":\"fake-flowith reply to: ping\"}", body);
    }

    [Theory]
    [InlineData("answer")]
    [InlineData("message")]
    [InlineData("text")]
    public async Task The_answer_can_come_in_an_alternate_field(string field)
    {
        using var client = Client(_server, NewToken());

        var (_, body) = await SeekAsync(client, "q", stream: false, scenarioHeader: $"field={field};text=Hi!");

        using var doc = JsonDocument.Parse(body);
        Assert.Equal("final", doc.RootElement.GetProperty("tag").GetString());
        Assert.Equal("Hi!", doc.RootElement.GetProperty(field).GetString());
        Assert.False(doc.RootElement.TryGetProperty("content", out _));
    }

    [Fact]
    public async Task Think_is_inline_in_the_non_streaming_content()
    {
        using var client = Client(_server, NewToken());

        var (_, body) = await SeekAsync(client, "q", stream: false, scenarioHeader: "think=hmm;text=42");

        using var doc = JsonDocument.Parse(body);
        Assert.Equal("<think>hmm</think>42", doc.RootElement.GetProperty("content").GetString());
    }

    [Fact]
    public async Task Empty_gives_empty_content_and_empty_body_gives_no_bytes()
    {
        using var client = Client(_server, NewToken());

        var (_, empty) = await SeekAsync(client, "q", stream: false, scenarioHeader: "empty=true");
        var (response, emptyBody) = await SeekAsync(client, "q", stream: false, scenarioHeader: "empty-body=true");

        Assert.Equal("{\"tag\":\"final\",\"content\":\"\"}", empty);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", emptyBody);
    }

    [Theory]
    [InlineData("/external/use/knowledge-base/seek")]
    [InlineData("/external/use/seek-knowledge")]
    [InlineData("/external/use/seek-knowledge/seek")]
    public async Task The_seek_route_and_its_documented_aliases_all_answer(string path)
    {
        using var client = Client(_server, NewToken());

        var (response, body) = await SendAsync(client, SeekRequest("alias", stream: false, path: path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("fake-flowith reply to: alias", body, StringComparison.Ordinal);
    }
}
