using System.Text.Json;
using Flowith2Api.Contracts;
using Flowith2Api.ToolService.Tools;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Flowith2Api.ToolService.Apis;

/// <summary>
/// The registry served over MCP (Streamable HTTP, stateless so any replica answers any request) at <c>/mcp</c>. The
/// Gateway authenticates the API key; each call runs in that key's workspace.
/// </summary>
public static class McpEndpoint
{
    public const string Path = "/mcp";

    public static IServiceCollection AddMcpEndpoint(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddMcpServer(options =>
            {
                options.ServerInfo = new Implementation { Name = "flowith2api-tools", Version = typeof(McpEndpoint).Assembly.GetName().Version?.ToString() ?? "1.0" };
                options.Capabilities = new ServerCapabilities { Tools = new ToolsCapability { ListChanged = false } };
            })
            .WithHttpTransport(options => options.Stateless = true)
            .WithListToolsHandler(ListToolsAsync)
            .WithCallToolHandler(CallToolAsync);
        return services;
    }

    public static IEndpointRouteBuilder MapMcpEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMcp(Path);
        return app;
    }

    private static ValueTask<ListToolsResult> ListToolsAsync(RequestContext<ListToolsRequestParams> request, CancellationToken cancellationToken)
    {
        var registry = request.Services!.GetRequiredService<ToolRegistry>();
        return ValueTask.FromResult(new ListToolsResult
        {
            Tools = [.. registry.Enabled
                .Where(t => t is not IToolAvailability { UnavailableReason: not null })
                .Select(t => new Tool { Name = t.Name, Description = t.Description, InputSchema = t.InputSchema })],
        });
    }

    private static async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        var services = request.Services!;
        var registry = services.GetRequiredService<ToolRegistry>();
        var name = request.Params!.Name;
        var tool = registry.Find(name);
        if (tool is null || !registry.IsEnabled(tool))
        {
            return Error(tool is null ? $"There is no tool named '{name}'." : registry.DisabledReason(tool));
        }

        var http = services.GetRequiredService<IHttpContextAccessor>().HttpContext;
        var keyId = http?.Request.Headers[InternalHeaders.KeyId] is { Count: > 0 } id && !string.IsNullOrEmpty(id[0]) ? id[0]! : "anonymous";
        var arguments = JsonSerializer.SerializeToElement(request.Params.Arguments ?? new Dictionary<string, JsonElement>(), McpJsonContext.Default.IDictionaryStringJsonElement);
        var result = await tool.ExecuteAsync(arguments, services.GetRequiredService<Workspaces>().ContextFor(keyId), cancellationToken);
        return new CallToolResult { IsError = result.IsError, Content = [new TextContentBlock { Text = result.Text }] };
    }

    private static CallToolResult Error(string text) => new() { IsError = true, Content = [new TextContentBlock { Text = text }] };
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IDictionary<string, JsonElement>))]
internal sealed partial class McpJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
