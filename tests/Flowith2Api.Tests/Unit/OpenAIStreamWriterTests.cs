using System.Text;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Microsoft.AspNetCore.Http;

namespace Flowith2Api.Tests.Unit;

/// <summary>The chunk stream the OpenAI SDKs parse, byte for byte.</summary>
public sealed class OpenAIStreamWriterTests
{
    [Fact]
    public async Task A_stream_is_role_then_content_then_finish_then_usage_then_done()
    {
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;

        using (var writer = new OpenAIStreamWriter(context.Response, "chatcmpl-1", 1700000000, "flowith"))
        {
            await writer.WriteRoleAsync(default);
            await writer.WriteContentAsync("Hé \"x\"\n", default);
            await writer.WriteFinishAsync("stop", default);
            await writer.WriteUsageAsync(new Usage(10, 3), default);
            await writer.WriteDoneAsync(default);
        }

        await context.Response.BodyWriter.CompleteAsync();
        const string head = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"flowith\",\"system_fingerprint\":null,";
        var expected =
            "data: " + head + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n" +
            "data: " + head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"H\\u00E9 \\u0022x\\u0022\\n\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n" +
            "data: " + head + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n" +
            "data: " + head + "\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":3,\"total_tokens\":13}}\n\n" +
            "data: [DONE]\n\n";
        Assert.Equal(expected, Encoding.UTF8.GetString(body.ToArray()));
    }
}
