using System.Net;
using System.Net.Sockets;
using System.Text;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Gateway;

public sealed class GatewayForwardingFailureTests
{
    [Fact]
    public async Task A_service_that_cannot_be_reached_gives_a_502_in_the_callers_dialect()
    {
        var closedPort = ClosedPort();
        await using var gateway = await StandaloneGateway.StartAsync($"http://127.0.0.1:{closedPort}");
        using var http = new HttpClient { BaseAddress = gateway.Uri, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", GatewayCluster.UserKey);

        using var openAI = await http.PostAsync("/v1/chat/completions", new StringContent("{}", Encoding.UTF8, "application/json"));
        await ErrorEnvelope.AssertOpenAIAsync(openAI, HttpStatusCode.BadGateway, "bad_gateway");

        using var anthropic = await http.PostAsync("/v1/messages", new StringContent("{}", Encoding.UTF8, "application/json"));
        await ErrorEnvelope.AssertAnthropicAsync(anthropic, HttpStatusCode.BadGateway, "api_error");
    }

    [Fact]
    public async Task Without_any_configured_key_every_call_is_refused()
    {
        await using var gateway = await StandaloneGateway.StartAsync($"http://127.0.0.1:{ClosedPort()}", apiKeys: "");
        using var http = new HttpClient { BaseAddress = gateway.Uri, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", "anything");
        using var response = await http.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class StandaloneGateway : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private StandaloneGateway(WebApplication app, Uri uri)
        {
            _app = app;
            Uri = uri;
        }

        public Uri Uri { get; }

        public static async Task<StandaloneGateway> StartAsync(string destination, string apiKeys = GatewayCluster.UserKey)
        {
            var app = Flowith2Api.Gateway.GatewayApp.Create(
            [
                "--urls=http://127.0.0.1:0",
                $"--API_KEYS={apiKeys}",
                "--LOG_LEVEL=error",
                $"--services:chat-service:http:0={destination}",
                $"--services:tool-service:http:0={destination}",
                $"--services:admin-service:http:0={destination}",
            ]);
            await app.StartAsync();
            return new StandaloneGateway(app, new Uri(app.Urls.First()));
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
