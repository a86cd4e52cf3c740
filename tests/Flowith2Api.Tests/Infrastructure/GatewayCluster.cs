using System.ClientModel;
using System.Diagnostics;
using Flowith2Api.AdminService;
using Flowith2Api.ChatService;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Gateway;
using Flowith2Api.ToolService;
using Microsoft.Extensions.Logging;
using OpenAI;
using OpenAI.Chat;
using OpenTelemetry.Trace;

namespace Flowith2Api.Tests.Infrastructure;

/// <summary>Settings for one in-process cluster; tests that need other timeouts or credentials make their own.</summary>
public sealed record GatewayClusterOptions
{
    public string FlowithTokens { get; init; } = "flo_test_credential_alpha";
    public string ApiKeys { get; init; } = $"{GatewayCluster.UserKey},{GatewayCluster.SecondUserKey}";
    public string AdminKey { get; init; } = GatewayCluster.AdminKeyValue;
    public IReadOnlyDictionary<string, string> ChatSettings { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> GatewaySettings { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> ToolSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>AdminService settings; by default an in-memory SQLite database.</summary>
    public IReadOnlyDictionary<string, string> AdminSettings { get; init; } = new Dictionary<string, string>();
    public bool CaptureTraces { get; init; }

    /// <summary>How many ChatService replicas share the work (and, with Redis, the pool).</summary>
    public int ChatReplicas { get; init; } = 1;

    /// <summary>A Redis connection string for the ChatService replicas; null: in-process state.</summary>
    public string? Redis { get; init; }

    /// <summary>Send upstream calls to a host that does not exist through PROXY_URL = the fake (which accepts absolute-form targets).</summary>
    public bool UpstreamThroughProxy { get; init; }

    /// <summary>
    /// Give each ChatService replica an HTTP/2-only listener (as the AppHost does) so the Gateway reaches it over h2c;
    /// false: the Gateway uses plain HTTP/1.1.
    /// </summary>
    public bool ChatOverHttp2 { get; init; } = true;

    /// <summary>Collect every log line of every service (at Trace level) for tests that scan them.</summary>
    public CapturedLogs? Logs { get; init; }

    /// <summary>
    /// <c>MCP_TOOLS</c> for the ChatService and the ToolService: the server tools described to the model in every
    /// request. Null leaves it unset, as the product ships (server tools only when a request asks for one).
    /// </summary>
    public string? McpTools { get; init; }

    /// <summary>Changes to the ToolService's services (e.g. a sandbox that is not available).</summary>
    public Action<WebApplicationBuilder>? ConfigureToolService { get; init; }

    /// <summary>Retry backoff for tests: short, so retries do not slow the suite.</summary>
    public int RetryBackoffMs { get; init; } = 5;
}

/// <summary>
/// The real Gateway, ChatService, ToolService and AdminService, each on its own Kestrel port on loopback, in front
/// of a fake Flowith: real HTTP, the real YARP pipeline and the real adapter, all in the test process.
/// </summary>
public sealed class GatewayCluster : IAsyncDisposable
{
    public const string UserKey = "sk-test-user-key-0001";
    public const string SecondUserKey = "sk-test-user-key-0002";
    public const string AdminKeyValue = "sk-test-admin-key-0001";
    public const string InternalSecret = "test-internal-secret-0123456789abcdef";

    private readonly List<WebApplication> _apps = [];
    private readonly List<WebApplication> _chatApps = [];

    private GatewayCluster(FakeFlowithServer fake) => Fake = fake;

    public FakeFlowithServer Fake { get; }

    /// <summary>Every service's application (AdminService, ToolService, ChatService replicas, Gateway), in start order.</summary>
    public IReadOnlyList<WebApplication> Apps => _apps;
    public Uri GatewayUri { get; private set; } = null!;

    /// <summary>The Gateway's services (its proxy state: which replicas it counts healthy).</summary>
    public IServiceProvider GatewayServices { get; private set; } = null!;
    public Uri ChatServiceUri => ChatServiceUris[0];
    public List<Uri> ChatServiceUris { get; } = [];

    /// <summary>The replicas' HTTP/2-only listeners (empty without <see cref="GatewayClusterOptions.ChatOverHttp2"/>).</summary>
    public List<Uri> ChatServiceHttp2Uris { get; } = [];
    public Uri AdminServiceUri { get; private set; } = null!;
    public Uri ToolServiceUri { get; private set; } = null!;

    /// <summary>Spans seen while this cluster ran (with <see cref="GatewayClusterOptions.CaptureTraces"/>).</summary>
    public List<Activity> Spans { get; } = [];

    public static async Task<GatewayCluster> StartAsync(GatewayClusterOptions? options = null)
    {
        options ??= new GatewayClusterOptions();
        var cluster = new GatewayCluster(await FakeFlowithServer.StartAsync());
        try
        {
            await cluster.StartServicesAsync(options);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartServicesAsync(GatewayClusterOptions options)
    {
        SecretScan.Start();
        var logs = options.Logs;
        _configureLogging = builder =>
        {
            SecretScan.AddTo(builder.Logging); // every service of every test is part of the run-wide secret scan
            if (logs is null)
            {
                return;
            }

            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            foreach (var category in new[] { "Flowith2Api", "Microsoft", "System", "Yarp", "ModelContextProtocol" })
            {
                builder.Logging.AddFilter(category, LogLevel.Trace); // later rules win over the services' own filters
            }

            builder.Logging.AddProvider(logs);
        };

        string[] common = ["--urls=http://127.0.0.1:0", $"--INTERNAL_SECRET={InternalSecret}", "--LOG_LEVEL=warn"];
        var redisPrefix = $"test-{Guid.NewGuid():N}:"; // every service of this cluster shares it; other clusters do not
        string[] adminArgs =
        [
            .. common,
            "--STORAGE_TYPE=memory",
            "--CREDENTIAL_ENCRYPTION_KEY=test-credential-encryption-key",
            $"--FLOWITH_AUTH_TOKENS={options.FlowithTokens}",
            $"--API_KEYS={options.ApiKeys}",
            $"--ADMIN_KEY={options.AdminKey}",
            .. options.Redis is null ? Array.Empty<string>() : [$"--ConnectionStrings:redis={options.Redis}", $"--REDIS_KEY_PREFIX={redisPrefix}"],
            .. options.AdminSettings.Select(kv => $"--{kv.Key}={kv.Value}"),
        ];
        AdminServiceUri = await StartAsync(AdminServiceApp.Create(adminArgs, _configureLogging));
        ToolServiceUri = await StartAsync(ToolServiceApp.Create(
            [
                .. common,
                $"--services:admin-service:http:0={AdminServiceUri}",
                .. options.Redis is null ? Array.Empty<string>() : [$"--ConnectionStrings:redis={options.Redis}", $"--REDIS_KEY_PREFIX={redisPrefix}"],
                .. options.McpTools is null ? Array.Empty<string>() : [$"--MCP_TOOLS={options.McpTools}"],
                .. options.ToolSettings.Select(kv => $"--{kv.Key}={kv.Value}"),
            ], builder =>
            {
                _configureLogging?.Invoke(builder);
                options.ConfigureToolService?.Invoke(builder);
            }));
        string[] chatArgs =
        [
            .. common,
            options.UpstreamThroughProxy ? "--FLOWITH_BASE=http://flowith.invalid" : $"--FLOWITH_BASE={Fake.BaseUri}",
            .. options.UpstreamThroughProxy ? [$"--PROXY_URL={Fake.BaseUri}"] : Array.Empty<string>(),
            $"--FLOWITH_AUTH_TOKENS={options.FlowithTokens}",
            $"--UPSTREAM_RETRY_BACKOFF_MS={options.RetryBackoffMs}",
            $"--services:tool-service:http:0={ToolServiceUri}",
            $"--services:admin-service:http:0={AdminServiceUri}",
            .. options.McpTools is null ? Array.Empty<string>() : [$"--MCP_TOOLS={options.McpTools}"],
            .. options.Redis is null ? Array.Empty<string>() : [$"--ConnectionStrings:redis={options.Redis}", $"--REDIS_KEY_PREFIX={redisPrefix}"],
            .. options.ChatSettings.Select(kv => $"--{kv.Key}={kv.Value}"),
        ];
        if (options.ChatOverHttp2)
        {
            chatArgs =
            [
                .. chatArgs,
                "--Kestrel:Endpoints:http:Url=http://127.0.0.1:0",
                $"--Kestrel:Endpoints:{Http2Endpoint}:Url=http://127.0.0.1:0",
                $"--Kestrel:Endpoints:{Http2Endpoint}:Protocols=Http2",
            ];
        }

        for (var i = 0; i < options.ChatReplicas; i++)
        {
            var app = ChatServiceApp.Create(chatArgs, _configureLogging);
            await StartAsync(app);
            _chatApps.Add(app);
            var (http1, http2) = await SplitListenersAsync(app);
            ChatServiceUris.Add(http1);
            if (http2 is not null)
            {
                ChatServiceHttp2Uris.Add(http2);
            }
        }

        string[] gatewayArgs =
        [
            .. common,
            $"--API_KEYS={options.ApiKeys}",
            $"--ADMIN_KEY={options.AdminKey}",
            .. ChatServiceUris.Select((uri, i) => $"--services:chat-service:http:{i}={uri}"),
            .. ChatServiceHttp2Uris.Select((uri, i) => $"--services:chat-service:{Http2Endpoint}:{i}={uri}"),
            $"--services:tool-service:http:0={ToolServiceUri}",
            $"--services:admin-service:http:0={AdminServiceUri}",
            .. options.Redis is null ? Array.Empty<string>() : [$"--ConnectionStrings:redis={options.Redis}", $"--REDIS_KEY_PREFIX={redisPrefix}"],
            .. options.GatewaySettings.Select(kv => $"--{kv.Key}={kv.Value}"),
        ];
        var gateway = GatewayApp.Create(gatewayArgs, builder =>
        {
            _configureLogging?.Invoke(builder);
            if (options.CaptureTraces)
            {
                // Activity listeners are process-wide: the Gateway's tracer provider sees the spans of every app here.
                builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));
            }
        });
        GatewayServices = gateway.Services;
        GatewayUri = await StartAsync(gateway);
    }

    private Action<WebApplicationBuilder>? _configureLogging;

    private const string Http2Endpoint = "h2c";

    /// <summary>Which of an app's listeners answers HTTP/1.1 and which only HTTP/2 (both bound to port 0).</summary>
    private static async Task<(Uri Http1, Uri? Http2)> SplitListenersAsync(WebApplication app)
    {
        var urls = app.Urls.Select(url => new Uri(url)).ToList();
        if (urls.Count == 1)
        {
            return (urls[0], null);
        }

        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Uri? http1 = null, http2 = null;
        foreach (var url in urls)
        {
            // An HTTP/2-only Kestrel endpoint answers an HTTP/1.1 request with a 400 of its own.
            using var response = await probe.GetAsync(new Uri(url, "health"));
            if (response.IsSuccessStatusCode)
            {
                http1 = url;
            }
            else
            {
                http2 = url;
            }
        }

        return (http1 ?? throw new InvalidOperationException("No HTTP/1.1 listener answered."), http2);
    }

    private async Task<Uri> StartAsync(WebApplication app)
    {
        _apps.Add(app);
        await app.StartAsync();
        return new Uri(app.Urls.First());
    }

    /// <summary>
    /// Takes a ChatService replica away as a crash would: it stops listening and every open connection is aborted at
    /// once, mid-stream or not (no drain).
    /// </summary>
    public async Task KillChatReplicaAsync(int replica)
    {
        var app = _chatApps[replica];
        using (var now = new CancellationTokenSource())
        {
            await now.CancelAsync();
            try
            {
                await app.StopAsync(now.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _apps.Remove(app);
        await app.DisposeAsync();
    }

    /// <summary>A client for one ChatService replica directly, carrying the internal secret as the Gateway would.</summary>
    public HttpClient CreateReplicaClient(int replica, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = ChatServiceUris[replica], Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("x-flowith2api-internal", InternalSecret);
        return client;
    }

    /// <summary>Which credential served each recorded upstream chat call, in order.</summary>
    public IReadOnlyList<string?> UpstreamTokens() =>
        [.. Fake.Requests.All.Where(r => r.Path.EndsWith("/seek", StringComparison.Ordinal)).Select(r => r.Token)];

    public HttpClient CreateClient(string? apiKey = UserKey, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = GatewayUri, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>The official OpenAI SDK pointed at the Gateway.</summary>
    public ChatClient CreateOpenAIChatClient(string apiKey = UserKey, string model = "flowith") =>
        new(model, new ApiKeyCredential(apiKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(GatewayUri, "/v1"),
            NetworkTimeout = TimeSpan.FromSeconds(30),
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0),
        });

    /// <summary>The official OpenAI SDK's Responses client pointed at the Gateway.</summary>
#pragma warning disable OPENAI001 // the Responses client is marked for evaluation in the SDK
    public OpenAI.Responses.ResponsesClient CreateOpenAIResponsesClient(string apiKey = UserKey) =>
        new(new ApiKeyCredential(apiKey), new OpenAI.Responses.ResponsesClientOptions
        {
            Endpoint = new Uri(GatewayUri, "/v1"),
            NetworkTimeout = TimeSpan.FromSeconds(30),
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0),
        });

    /// <summary>
    /// The Responses client pointed at one ChatService replica directly, as the Gateway would call it for the key with
    /// id <paramref name="keyId"/> (so a test decides which replica serves each request).
    /// </summary>
    public OpenAI.Responses.ResponsesClient CreateReplicaResponsesClient(int replica, string keyId)
    {
        var options = new OpenAI.Responses.ResponsesClientOptions
        {
            Endpoint = new Uri(ChatServiceUris[replica], "/v1"),
            NetworkTimeout = TimeSpan.FromSeconds(30),
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0),
        };
        options.AddPolicy(new HeadersPolicy(new Dictionary<string, string>
        {
            ["x-flowith2api-internal"] = InternalSecret,
            ["x-flowith2api-key-id"] = keyId,
        }), System.ClientModel.Primitives.PipelinePosition.PerCall);
        return new(new ApiKeyCredential("unused-behind-the-gateway"), options);
    }
#pragma warning restore OPENAI001

    /// <summary>The official Anthropic SDK pointed at the Gateway (no retries, responses validated on arrival).</summary>
    public global::Anthropic.AnthropicClient CreateAnthropicClient(string apiKey = UserKey) =>
        new(new global::Anthropic.Core.ClientOptions
        {
            ApiKey = apiKey,
            BaseUrl = GatewayUri.ToString(),
            MaxRetries = 0,
            Timeout = TimeSpan.FromSeconds(30),
            ResponseValidation = true,
        });

    public async ValueTask DisposeAsync()
    {
        SecretScan.WriteSummary();
        for (var i = _apps.Count - 1; i >= 0; i--)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _apps[i].StopAsync(timeout.Token);
            }
            finally
            {
                await _apps[i].DisposeAsync();
            }
        }

        await Fake.DisposeAsync();
    }
}

/// <summary>One shared cluster for the tests that only need the defaults.</summary>
public sealed class GatewayClusterFixture : IAsyncLifetime
{
    public GatewayCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { CaptureTraces = true });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class GatewayClusterCollection : ICollectionFixture<GatewayClusterFixture>
{
    public const string Name = "gateway cluster";
}

/// <summary>Adds fixed headers to every request an SDK client sends.</summary>
internal sealed class HeadersPolicy(IReadOnlyDictionary<string, string> headers) : System.ClientModel.Primitives.PipelinePolicy
{
    public override void Process(System.ClientModel.Primitives.PipelineMessage message, IReadOnlyList<System.ClientModel.Primitives.PipelinePolicy> pipeline,
        int currentIndex)
    {
        Add(message);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(System.ClientModel.Primitives.PipelineMessage message,
        IReadOnlyList<System.ClientModel.Primitives.PipelinePolicy> pipeline, int currentIndex)
    {
        Add(message);
        return ProcessNextAsync(message, pipeline, currentIndex);
    }

    private void Add(System.ClientModel.Primitives.PipelineMessage message)
    {
        foreach (var (name, value) in headers)
        {
            message.Request.Headers.Set(name, value);
        }
    }
}
