using System.Net.Http.Headers;

namespace Flowith2Api.FakeFlowith;

/// <summary>A fake Flowith upstream running in-process on a real Kestrel port on 127.0.0.1.</summary>
public sealed class FakeFlowithServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private FakeFlowithServer(WebApplication app, Uri baseUri, FakeFlowithOptions options)
    {
        _app = app;
        BaseUri = baseUri;
        Options = options;
        Scenarios = app.Services.GetRequiredService<FakeScenarioRegistry>();
        Requests = app.Services.GetRequiredService<FakeRequestLog>();
    }

    /// <summary>The origin, e.g. <c>http://127.0.0.1:41234</c> (no trailing path).</summary>
    public Uri BaseUri { get; }

    /// <summary><c>{BaseUri}/external/use/knowledge-base/seek</c>.</summary>
    public Uri SeekUri => new(BaseUri, FlowithApi.SeekPath);

    /// <summary><c>{BaseUri}/external/use/knowledge-base/models</c>.</summary>
    public Uri ModelsUri => new(BaseUri, FlowithApi.ModelsPath);

    /// <summary>Scripted scenarios.</summary>
    public FakeScenarioRegistry Scenarios { get; }

    /// <summary>Recorded requests.</summary>
    public FakeRequestLog Requests { get; }

    /// <summary>The options the server started with (changes after start have no effect).</summary>
    public FakeFlowithOptions Options { get; }

    /// <summary>Starts a server; <paramref name="options"/> default to a free port and a normal answer.</summary>
    public static async Task<FakeFlowithServer> StartAsync(FakeFlowithOptions? options = null, CancellationToken ct = default)
    {
        options ??= new FakeFlowithOptions();
        var app = FakeFlowithApp.Create(options);
        try
        {
            await app.StartAsync(ct);
            var address = app.Urls.FirstOrDefault() ?? throw new InvalidOperationException("Kestrel reported no address.");
            return new FakeFlowithServer(app, new Uri(address), options);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>An HttpClient for this server, with <c>Authorization: Bearer token</c> when given.</summary>
    public HttpClient CreateClient(string? token = null, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = BaseUri, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        if (token is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Stops the server (stalled requests are cut off) within a few seconds.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
