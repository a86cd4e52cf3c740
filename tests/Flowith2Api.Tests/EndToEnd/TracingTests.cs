using System.Diagnostics;
using System.Text;
using Flowith2Api.ServiceDefaults;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.EndToEnd;

public sealed class TracingTests
{
    [Fact]
    public async Task One_chat_request_is_one_trace_from_the_gateway_through_the_chat_service_to_the_upstream_with_one_request_id()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { CaptureTraces = true });
        using var http = cluster.CreateClient();
        var requestId = "req-trace-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"stream":true,"messages":[{"role":"user","content":"trace me"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-request-id", requestId);

        using var response = await http.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        var upstreamCall = await cluster.Fake.Requests.WaitForAsync(r => r.RequestId == requestId, TimeSpan.FromSeconds(10));
        var fakePort = cluster.Fake.BaseUri.Port;
        Activity[] spans = [];
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            spans = [.. cluster.Spans.ToArray()];
            var servers = spans.Where(s => s.Kind == ActivityKind.Server && Equals(s.GetTagItem(Telemetry.RequestIdTag), requestId)).ToArray();
            if (servers.Length >= 2)
            {
                break;
            }

            await Task.Delay(50);
        }

        var serverSpans = spans.Where(s => s.Kind == ActivityKind.Server && Equals(s.GetTagItem(Telemetry.RequestIdTag), requestId)).ToArray();
        Assert.Equal(2, serverSpans.Length); // the Gateway's and the ChatService's
        var traceId = serverSpans[0].TraceId;
        Assert.All(serverSpans, s => Assert.Equal(traceId, s.TraceId));
        Assert.Equal(2, serverSpans.Select(s => s.GetTagItem("server.port")).Distinct().Count());

        var attempt = Assert.Single(spans, s => s.OperationName == "flowith.seek attempt" && s.TraceId == traceId);
        Assert.Equal("success", attempt.GetTagItem("flowith2api.outcome"));
        Assert.DoesNotContain("flo_test_credential_alpha", (string)attempt.GetTagItem("flowith2api.credential")!, StringComparison.Ordinal);

        Assert.Contains(spans, s => s.Kind == ActivityKind.Client && s.TraceId == traceId
            && Equals(s.GetTagItem("server.port"), fakePort));
        Assert.Contains(traceId.ToHexString(), upstreamCall.Header("traceparent"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, "2")]
    [InlineData(false, "1.1")]
    public async Task The_gateway_reaches_the_chat_service_over_h2c_when_it_publishes_an_h2c_endpoint(bool http2, string expectedVersion)
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { CaptureTraces = true, ChatOverHttp2 = http2 });
        Assert.Equal(http2 ? 1 : 0, cluster.ChatServiceHttp2Uris.Count);
        using var http = cluster.CreateClient();
        var requestId = "req-h2c-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"stream":true,"messages":[{"role":"user","content":"which protocol?"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-request-id", requestId);

        using var response = await http.SendAsync(request);
        Assert.Contains("data: [DONE]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var chatPort = (http2 ? cluster.ChatServiceHttp2Uris[0] : cluster.ChatServiceUri).Port;
        Activity? chatSpan = null;
        var deadline = Stopwatch.StartNew();
        while (chatSpan is null && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            chatSpan = cluster.Spans.ToArray().FirstOrDefault(s => s.Kind == ActivityKind.Server
                && Equals(s.GetTagItem(Telemetry.RequestIdTag), requestId) && Equals(s.GetTagItem("server.port"), chatPort));
            await Task.Delay(50);
        }

        Assert.NotNull(chatSpan);
        Assert.Equal(expectedVersion, chatSpan.GetTagItem("network.protocol.version"));
    }
}
