using System.Diagnostics;
using System.Text;
using Flowith2Api.ServiceDefaults;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Operations;

public sealed class TelemetryTests
{
    private const string FlowithToken = "flo_span_tree_credential_0123456789";

    [Fact]
    public async Task A_streamed_chat_request_is_one_span_tree_with_gen_ai_attributes_and_no_secret_anywhere()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { CaptureTraces = true, FlowithTokens = FlowithToken });
        using var http = cluster.CreateClient();
        var requestId = "req-span-tree-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4.1-mini","stream":true,"messages":[{"role":"user","content":"Draw the span tree."}]}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-request-id", requestId);
        using var response = await http.SendAsync(request);
        Assert.Contains("data: [DONE]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Activity? chat = null;
        var deadline = Stopwatch.StartNew();
        while (chat is null && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            chat = cluster.Spans.ToArray().FirstOrDefault(s => s.OperationName == "chat" && Equals(s.GetTagItem(Telemetry.RequestIdTag), requestId));
            await Task.Delay(50);
        }

        Assert.NotNull(chat);
        await Task.Delay(200); // the enclosing server spans end after the last byte
        var trace = cluster.Spans.ToArray().Where(s => s.TraceId == chat.TraceId).ToArray();
        Activity ParentOf(Activity span) => Assert.Single(trace, s => s.SpanId == span.ParentSpanId);

        // Gateway server span → YARP forwarding → HTTP client → ChatService server span → chat span → …
        var gatewayServer = Assert.Single(trace, s => s.Kind == ActivityKind.Server && Equals(s.GetTagItem("server.port"), cluster.GatewayUri.Port));
        var chatServer = ParentOf(chat);
        Assert.Equal(ActivityKind.Server, chatServer.Kind);
        Assert.Equal(cluster.ChatServiceHttp2Uris[0].Port, chatServer.GetTagItem("server.port"));
        var hop = ParentOf(chatServer);
        Assert.Equal(ActivityKind.Client, hop.Kind);
        var ancestors = new List<Activity>();
        for (var span = hop; span.ParentSpanId != default; span = ParentOf(span))
        {
            ancestors.Add(ParentOf(span));
        }

        Assert.Contains(gatewayServer, ancestors);
        Assert.Contains(ancestors, s => s.Source.Name == "Yarp.ReverseProxy");

        Assert.Equal("chat gpt-4.1-mini", chat.DisplayName);
        Assert.Equal("chat", chat.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("flowith", chat.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("gpt-4.1-mini", chat.GetTagItem("gen_ai.request.model"));
        Assert.True((int)chat.GetTagItem("gen_ai.usage.input_tokens")! > 0);
        Assert.True((int)chat.GetTagItem("gen_ai.usage.output_tokens")! > 0);
        Assert.Equal(true, chat.GetTagItem("flowith2api.stream"));
        Assert.Equal("openai", chat.GetTagItem("flowith2api.dialect"));
        Assert.False(string.IsNullOrEmpty(chat.GetTagItem("flowith2api.key_id") as string), "the caller's key id (never the key)");

        var translation = Assert.Single(trace, s => s.OperationName == "translate openai request");
        Assert.Equal(chat.SpanId, translation.ParentSpanId);

        var attempt = Assert.Single(trace, s => s.OperationName == "flowith.seek attempt");
        Assert.Equal(chat.SpanId, attempt.ParentSpanId);
        Assert.Equal(1, attempt.GetTagItem("flowith2api.attempt"));
        Assert.Equal("success", attempt.GetTagItem("flowith2api.outcome"));
        Assert.Equal(SeedSettings.Mask(FlowithToken), attempt.GetTagItem("flowith2api.credential"));
        var upstream = Assert.Single(trace, s => s.Kind == ActivityKind.Client && Equals(s.GetTagItem("server.port"), cluster.Fake.BaseUri.Port));
        Assert.Equal(attempt.SpanId, upstream.ParentSpanId);

        string[] secrets = [FlowithToken, GatewayCluster.UserKey, GatewayCluster.InternalSecret, GatewayCluster.AdminKeyValue];
        foreach (var span in trace)
        {
            foreach (var (key, value) in span.TagObjects)
            {
                var text = value?.ToString() ?? "";
                Assert.DoesNotContain(secrets, secret => text.Contains(secret, StringComparison.Ordinal));
            }

            Assert.DoesNotContain(secrets, secret => span.DisplayName.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_secret_put_on_a_span_is_masked_before_export()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { CaptureTraces = true, FlowithTokens = FlowithToken });
        using (var span = Telemetry.ActivitySource.StartActivity("leaky"))
        {
            Assert.NotNull(span);
            span.SetTag("oops", $"upstream said: bad token {FlowithToken}");
            span.SetTag("internal", $"secret={GatewayCluster.InternalSecret}");
        }

        var leaky = Assert.Single(cluster.Spans.ToArray(), s => s.OperationName == "leaky");
        Assert.DoesNotContain(FlowithToken, (string)leaky.GetTagItem("oops")!, StringComparison.Ordinal);
        Assert.Contains(SeedSettings.Mask(FlowithToken), (string)leaky.GetTagItem("oops")!, StringComparison.Ordinal);
        Assert.DoesNotContain(GatewayCluster.InternalSecret, (string)leaky.GetTagItem("internal")!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_chat_service_publishes_the_flowith2api_instruments_in_prometheus_text()
    {
        await using var cluster = await GatewayCluster.StartAsync();
        using var http = cluster.CreateClient();
        using var chat = await http.PostAsync("/v1/chat/completions",
            new StringContent("""{"stream":true,"messages":[{"role":"user","content":"count me"}]}""", Encoding.UTF8, "application/json"));
        await chat.Content.ReadAsStringAsync();

        using var replica = cluster.CreateReplicaClient(0);
        string metrics = "";
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15) && !metrics.Contains("flowith2api_requests", StringComparison.Ordinal))
        {
            metrics = await replica.GetStringAsync("/metrics");
            await Task.Delay(200);
        }

        foreach (var name in new[]
        {
            "flowith2api_requests", "flowith2api_request_duration_seconds_bucket", "flowith2api_time_to_first_token_seconds_bucket",
            "flowith2api_overhead_seconds_bucket", "gen_ai_client_token_usage", "flowith2api_upstream_attempts", "flowith2api_active_streams",
            "flowith2api_credentials",
        })
        {
            Assert.Contains(name, metrics, StringComparison.Ordinal);
        }
    }
}
