using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Flowith2Api.Tests.Infrastructure;

/// <summary>A tiny real HTTP server on loopback standing in for an outside backend (search, images, MCP).</summary>
public sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestBackend(WebApplication app) => _app = app;

    public Uri Uri { get; private set; } = null!;

    public string HostAndPort => $"{Uri.Host}:{Uri.Port}";

    public List<HttpRequestRecord> Requests { get; } = [];

    public static async Task<TestBackend> StartAsync(Action<IEndpointRouteBuilder, TestBackend> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var backend = new TestBackend(app);
        app.Use(async (context, next) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            lock (backend.Requests)
            {
                backend.Requests.Add(new HttpRequestRecord(context.Request.Method, context.Request.Path + context.Request.QueryString,
                    context.Request.Headers.Authorization.ToString(), body));
            }

            context.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body));
            await next(context);
        });
        map(app, backend);
        await app.StartAsync();
        backend.Uri = new Uri(app.Urls.First());
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record HttpRequestRecord(string Method, string PathAndQuery, string Authorization, string Body);
