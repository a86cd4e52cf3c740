using System.Net;
using System.Text;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Gateway;

/// <summary>Malformed and hostile bodies: always a 4xx in the right envelope, never a 500, the service still healthy.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class HostileInputTests(GatewayClusterFixture fixture)
{
    public static TheoryData<string> Bodies()
    {
        var deep = new StringBuilder();
        for (var i = 0; i < 5000; i++)
        {
            deep.Append('[');
        }

        return new TheoryData<string>
        {
            """{"max_tokens":1e30,"messages":[{"role":"user","content":"hi"}]}""",
            """{"max_tokens":99999999999999999999,"messages":[{"role":"user","content":"hi"}]}""",
            """{"messages":[null]}""",
            """{"messages":[{"role":"user","content":[null]}]}""",
            """{"messages":[{"role":"user","content":[{"type":"text","text":null}]}]}""",
            """{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"x","parameters":"not an object"}}]}""",
            """{"messages":[{"role":"user","content":"hi"}],"tools":"all of them"}""",
            """{"messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"function","function":{"name":42}}}""",
            """{"messages":[{"role":"user","content":"hi"}],"stop":[1,2]}""",
            """{"messages":[{"role":"user","content":"hi"}],"stream":"yes"}""",
            """{"messages":[{"role":"user","content":"hi"}],"temperature":"NaN"}""",
            """{"messages":[{"role":"assistant","content":null,"tool_calls":[{"function":null}]}]}""",
            """{"model":{"name":"x"},"messages":[{"role":"user","content":"hi"}]}""",
            """{"max_tokens":10,"system":[{"type":"text"}],"messages":[{"role":"user","content":"hi"}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result"}]}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"x","input_schema":[]}],"tool_choice":{"type":"tool"}}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":"hi"}],"thinking":"on"}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":1}]}]}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":5}]}]}]}""",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"nul \u0000 byte\"}]}",
            deep.ToString(),
            "{\"messages\":" + new string('[', 100) + new string(']', 100) + "}",
            "",
            "{",
            // Found by the fuzz suite (issue 12): each was a 500 or was accepted.
            """{"max_tokens":10,"messages":[{"role":"user","content":"\ud800"}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":"x\udc00y"}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"image_url"}]}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"image"}]}]}""",
            """{"max_tokens":10,"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":""}}]}]}""",
        };
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Every_hostile_body_is_a_clear_4xx_on_both_dialects(string body)
    {
        using var http = fixture.Cluster.CreateClient();
        foreach (var path in new[] { "/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens" })
        {
            using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode is >= 400 and < 500 or 200, $"{path}: {(int)response.StatusCode} {text}");
            if (body.Contains("\\ud800", StringComparison.Ordinal) || body.Contains("\\udc00", StringComparison.Ordinal) || body.Contains("image", StringComparison.Ordinal))
            {
                Assert.True((int)response.StatusCode is >= 400 and < 500, $"{path}: {(int)response.StatusCode} {text}");
            }
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal); // no stack traces
        }
    }

    [Fact]
    public async Task Invalid_utf8_is_a_400_not_a_crash()
    {
        using var http = fixture.Cluster.CreateClient();
        var bytes = Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"bad """).Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat(Encoding.UTF8.GetBytes("\"}]}")).ToArray();
        foreach (var path in new[] { "/v1/chat/completions", "/v1/messages" })
        {
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new("application/json");
            using var response = await http.PostAsync(path, content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
    }
}
