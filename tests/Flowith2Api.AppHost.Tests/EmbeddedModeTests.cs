using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Anthropic.Models.Messages;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace Flowith2Api.AppHost.Tests;

/// <summary>
/// The product as a machine without redis-server and PostgreSQL runs it (the AppHost's embedded mode), used the way
/// users use it: the official OpenAI and Anthropic SDKs, a server-side session, the admin API and its statistics.
/// </summary>
public sealed class EmbeddedModeTests(EmbeddedAppHostFixture fixture) : IClassFixture<EmbeddedAppHostFixture>
{
    [Fact]
    public async Task The_composition_has_no_redis_or_postgres_and_every_service_becomes_healthy()
    {
        var names = fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Select(r => r.Name).ToList();
        Assert.DoesNotContain("redis", names);
        Assert.DoesNotContain("admindb", names);
        Assert.DoesNotContain(names, n => n.StartsWith("postgres", StringComparison.Ordinal));
        using var timeout = new CancellationTokenSource(AppHostFixture.StartTimeout);
        foreach (var name in new[] { "gateway", "chat-service", "tool-service", "admin-service" })
        {
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }
    }

    [Fact]
    public async Task The_sdks_are_answered_a_session_keeps_its_history_and_the_statistics_count_every_call()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var admin = Client(AppHostFixture.AdminKey);
        var before = await TotalRequestsAsync(admin, timeout.Token);

        var openai = new ChatClient("flowith", new ApiKeyCredential(AppHostFixture.ApiKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.GatewayUri, "/v1"),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        });
        var streamed = new StringBuilder();
        await foreach (var update in openai.CompleteChatStreamingAsync([new UserChatMessage("embedded, streamed")], cancellationToken: timeout.Token))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal("fake-flowith reply to: embedded, streamed", streamed.ToString());

        using var anthropic = new Anthropic.AnthropicClient(new Anthropic.Core.ClientOptions
        {
            ApiKey = AppHostFixture.ApiKey,
            BaseUrl = fixture.GatewayUri.ToString(),
            MaxRetries = 0,
            Timeout = TimeSpan.FromSeconds(30),
        });
        Message message = await anthropic.Messages.Create(new MessageCreateParams
        {
            Model = "claude-sonnet-4",
            MaxTokens = 100,
            Messages = [new UserMessageParam("embedded, Anthropic")],
        }, timeout.Token);
        Assert.True(message.Content.Single().TryPickText(out var text));
        Assert.Equal("fake-flowith reply to: embedded, Anthropic", text.Text);

        // A server-side session, kept in process: the second turn reaches the upstream with the first one before it.
        using var user = Client(AppHostFixture.ApiKey);
        foreach (var turn in new[] { "first turn", "second turn" })
        {
            using var response = await user.PostAsJsonAsync("/v1/chat/completions", new Dictionary<string, object>
            {
                ["model"] = "flowith",
                ["session_id"] = "embedded-session",
                ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = turn } },
            }, timeout.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var fake = new HttpClient { BaseAddress = fixture.App.GetEndpoint("fake-flowith", "http"), Timeout = TimeSpan.FromSeconds(30) };
        using var requests = JsonDocument.Parse(await fake.GetStringAsync("/_fake/requests", timeout.Token));
        var seek = requests.RootElement.EnumerateArray().Last(r => r.GetProperty("path").GetString()!.EndsWith("/seek", StringComparison.Ordinal));
        using var body = JsonDocument.Parse(seek.GetProperty("body").GetString()!);
        var sent = body.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()).ToList();
        Assert.Equal(["first turn", "fake-flowith reply to: first turn", "second turn"], sent);

        // The console's numbers: every call just made, in the totals and in the per-second series.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long total;
        while ((total = await TotalRequestsAsync(admin, timeout.Token)) < before + 4)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the statistics show {total - before} of the 4 calls");
            await Task.Delay(250, timeout.Token);
        }

        long inSeries;
        while ((inSeries = await SeriesRequestsAsync(admin, timeout.Token)) < 4)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the per-second series shows {inSeries} of the 4 calls");
            await Task.Delay(250, timeout.Token);
        }
    }

    [Fact]
    public async Task A_key_made_in_the_admin_api_works_within_seconds_and_stops_once_deleted()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var admin = Client(AppHostFixture.AdminKey);
        using var created = await admin.PostAsJsonAsync("/v1/admin/keys", new Dictionary<string, object> { ["name"] = "embedded-key" }, timeout.Token);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync(timeout.Token));
        var value = key.RootElement.GetProperty("key").GetString()!;
        var id = key.RootElement.GetProperty("id").GetInt64();

        using var user = Client(value);
        await UntilAsync(async () => (await user.GetAsync("/v1/models", timeout.Token)).StatusCode == HttpStatusCode.OK, "the new key was never accepted");
        using (var deleted = await admin.DeleteAsync($"/v1/admin/keys/{id}", timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        await UntilAsync(async () => (await user.GetAsync("/v1/models", timeout.Token)).StatusCode == HttpStatusCode.Unauthorized,
            "the deleted key kept working");
    }

    private HttpClient Client(string key)
    {
        var http = new HttpClient { BaseAddress = fixture.GatewayUri, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return http;
    }

    private static async Task<long> TotalRequestsAsync(HttpClient admin, CancellationToken cancellationToken)
    {
        using var response = await admin.GetAsync("/v1/admin/stats", cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /v1/admin/stats: {(int)response.StatusCode} {text}");
        using var stats = JsonDocument.Parse(text);
        return stats.RootElement.GetProperty("requests").GetProperty("total").GetInt64();
    }

    private static async Task<long> SeriesRequestsAsync(HttpClient admin, CancellationToken cancellationToken)
    {
        using var response = await admin.GetAsync("/v1/admin/stats/series", cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /v1/admin/stats/series: {(int)response.StatusCode} {text}");
        using var series = JsonDocument.Parse(text);
        return series.RootElement.GetProperty("points").EnumerateArray().Sum(p => p.GetProperty("requests").GetInt64());
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string failure)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), failure);
            await Task.Delay(200);
        }
    }
}
