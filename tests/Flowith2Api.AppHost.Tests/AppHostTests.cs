using System.ClientModel;
using System.Net;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace Flowith2Api.AppHost.Tests;

/// <summary>The whole composition, started the way users start it, answering an OpenAI SDK.</summary>
public sealed class AppHostTests(AppHostFixture fixture) : IClassFixture<AppHostFixture>
{
    [Fact]
    public async Task Every_resource_of_the_composition_becomes_healthy()
    {
        using var timeout = new CancellationTokenSource(AppHostFixture.StartTimeout);
        foreach (var name in new[] { "redis", "postgres", "fake-flowith", "chat-service", "tool-service", "admin-service", "gateway" })
        {
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }
    }

    [Fact]
    public async Task The_openai_sdk_gets_a_streamed_answer_from_the_fake_upstream_through_the_gateway()
    {
        var client = new ChatClient("flowith", new ApiKeyCredential(AppHostFixture.ApiKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.GatewayUri, "/v1"),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        });

        var text = new StringBuilder();
        var updates = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Hello from the AppHost test")], cancellationToken: timeout.Token))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
                updates++;
            }
        }

        Assert.Equal("fake-flowith reply to: Hello from the AppHost test", text.ToString());
        Assert.True(updates > 1, "the answer should arrive in several chunks");

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("and not streamed")], cancellationToken: timeout.Token);
        Assert.Equal("fake-flowith reply to: and not streamed", completion.Content[0].Text);
    }

    [Fact]
    public async Task A_wrong_key_gets_a_clear_401()
    {
        using var http = new HttpClient { BaseAddress = fixture.GatewayUri, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", "sk-wrong");
        using var response = await http.PostAsync("/v1/chat/completions",
            new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Invalid API key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
