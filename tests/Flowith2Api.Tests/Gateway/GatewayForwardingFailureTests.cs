using System.Net;
using System.Net.Sockets;
using System.Text;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

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

    /// <summary>
    /// A service that answers (an empty 405, a 204) without reading the request body: YARP then reports a request-body
    /// error after the answer's status and Content-Length: 0 were copied. The answer must reach the client as it is;
    /// writing an error over it was a 500 ("too many bytes written") — found by the attack suite's POSTs to /v1/models/…;
    /// and leaving the client's body half read made Kestrel drop the connection with the answer unsent (under load).
    /// </summary>
    [Theory]
    [InlineData(405, false)]
    [InlineData(204, false)]
    [InlineData(405, true)]
    [InlineData(204, true)]
    public async Task A_service_answering_before_reading_the_body_has_its_answer_relayed_never_a_500(int status, bool http2)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
            listen.Protocols = http2 ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2 : Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1));
        await using var service = builder.Build();
        service.Run(context =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentLength = 0;
            return Task.CompletedTask;
        });
        await service.StartAsync();
        await using var gateway = await StandaloneGateway.StartAsync(service.Urls.First(), http2: http2);
        using var http = new HttpClient { BaseAddress = gateway.Uri, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", GatewayCluster.UserKey);

        // Small and large bodies (the Gateway reads what YARP left unread, so the client's connection stays in step and the
        // answer is not lost to a reset).
        foreach (var size in new[] { 2, 16 * 1024, 256 * 1024 })
        {
            for (var i = 0; i < 60; i++)
            {
                using var response = await http.PostAsync("/v1/models/x", new StringContent(new string('a', size), Encoding.UTF8, "application/json"));
                var body = await response.Content.ReadAsStringAsync();
                Assert.True((int)response.StatusCode == status, $"body of {size} bytes: {(int)response.StatusCode} {body}");
                Assert.Equal("", body);
            }
        }
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

        /// <param name="http2">The destination speaks HTTP/2 only (an <c>h2c</c> endpoint, as the AppHost gives the ChatService).</param>
        public static async Task<StandaloneGateway> StartAsync(string destination, string apiKeys = GatewayCluster.UserKey, bool http2 = false)
        {
            var app = Flowith2Api.Gateway.GatewayApp.Create(
            [
                "--urls=http://127.0.0.1:0",
                $"--API_KEYS={apiKeys}",
                "--LOG_LEVEL=error",
                $"--services:chat-service:{(http2 ? "h2c" : "http")}:0={destination}",
                $"--services:tool-service:http:0={destination}",
                $"--services:admin-service:http:0={destination}",
            ], builder => SecretScan.AddTo(builder.Logging)); // part of the run-wide secret scan, like every cluster's services
            SecretScan.Start();
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
