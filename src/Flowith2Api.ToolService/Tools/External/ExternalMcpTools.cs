using System.Text.Json;
using Flowith2Api.ToolService.Outbound;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Flowith2Api.ToolService.Tools.External;

/// <summary>
/// The tools of external MCP servers (<c>MCP_SERVERS</c>), named <c>{server}__{tool}</c>. Each server is reached through
/// the outbound guard (no private or metadata addresses unless allowed); its tool list is refreshed periodically, and a
/// server that cannot be reached simply contributes no tools until it can.
/// </summary>
public sealed partial class ExternalMcpTools(IOptions<ToolOptions> options, IHttpClientFactory clients, ILoggerFactory loggers)
    : BackgroundService, IToolSource
{
    public const string Separator = "__";
    private static readonly TimeSpan Refresh = TimeSpan.FromMinutes(5);

    private readonly ILogger _logger = loggers.CreateLogger<ExternalMcpTools>();
    private readonly Dictionary<string, Connection> _connections = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile IReadOnlyList<ITool> _tools = [];

    public IReadOnlyList<ITool> Tools => _tools;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.McpServers.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(Refresh);
        do
        {
            await RefreshAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Reads every server's tool list now.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var tools = new List<ITool>();
        foreach (var server in options.Value.McpServers)
        {
            try
            {
                var client = await ClientAsync(server, cancellationToken);
                foreach (var tool in await client.ListToolsAsync(cancellationToken: cancellationToken))
                {
                    tools.Add(new ExternalTool(this, server, tool.Name, tool.Description ?? "", tool.JsonSchema));
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or ModelContextProtocol.McpException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogUnreachable(_logger, server.Name, OutboundErrors.Describe(e));
                await DropAsync(server.Name);
            }
        }

        _tools = tools;
    }

    private async Task<McpClient> ClientAsync(McpServerConfig server, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connections.TryGetValue(server.Name, out var existing))
            {
                return existing.Client;
            }

            var transport = new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = server.Url,
                TransportMode = HttpTransportMode.StreamableHttp,
                Name = server.Name,
                AdditionalHeaders = new Dictionary<string, string>(server.Headers),
            }, clients.CreateClient(OutboundGuard.HttpClientName), loggers, ownsHttpClient: false);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(15));
                var client = await McpClient.CreateAsync(transport, cancellationToken: timeout.Token);
                _connections[server.Name] = new Connection(client, transport);
                return client;
            }
            catch
            {
                await transport.DisposeAsync();
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DropAsync(string name)
    {
        await _gate.WaitAsync();
        try
        {
            if (_connections.Remove(name, out var connection))
            {
                await connection.DisposeAsync();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    internal async Task<ToolResult> CallAsync(McpServerConfig server, string tool, JsonElement arguments, CancellationToken cancellationToken)
    {
        try
        {
            var client = await ClientAsync(server, cancellationToken);
            var values = arguments.ValueKind == JsonValueKind.Object
                ? arguments.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone())
                : [];
            var result = await client.CallToolAsync(tool, values, cancellationToken: cancellationToken);
            var text = string.Join("\n", result.Content.Select(c => c is TextContentBlock t ? t.Text : $"[{c.Type}]"));
            return new ToolResult(result.IsError == true, text);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or ModelContextProtocol.McpException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            await DropAsync(server.Name);
            return ToolResult.Error($"The MCP server '{server.Name}' failed: {OutboundErrors.Describe(e)}");
        }
    }

    public override void Dispose()
    {
        foreach (var connection in _connections.Values)
        {
            connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        _gate.Dispose();
        base.Dispose();
    }

    private sealed record Connection(McpClient Client, HttpClientTransport Transport) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Transport.DisposeAsync();
        }
    }

    private sealed class ExternalTool(ExternalMcpTools owner, McpServerConfig server, string remoteName, string description, JsonElement schema) : ITool
    {
        public string Name { get; } = server.Name + Separator + remoteName;

        public string Description { get; } = $"[{server.Name}] {description}";

        public JsonElement InputSchema { get; } = schema;

        public ToolKind Kind => ToolKind.External;

        public Task<ToolResult> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken) =>
            owner.CallAsync(server, remoteName, arguments, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The MCP server {Server} cannot be used right now: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string server, string reason);
}
