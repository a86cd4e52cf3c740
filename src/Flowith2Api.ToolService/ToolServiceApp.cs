using Flowith2Api.ServiceDefaults;
using Flowith2Api.ToolService.Apis;
using Flowith2Api.ToolService.Outbound;
using Flowith2Api.ToolService.Sandbox;
using Flowith2Api.ToolService.Tools;
using Flowith2Api.ToolService.Tools.Builtin;
using Flowith2Api.ToolService.Tools.Cli;
using Flowith2Api.ToolService.Tools.External;

namespace Flowith2Api.ToolService;

/// <summary>Builds the ToolService: the tool registry, the sandbox and the MCP endpoint live here.</summary>
public static class ToolServiceApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = ServiceHost.CreateBuilder(args);
        builder.Services.AddProblemDetails();
        builder.Services.AddServiceOpenApi();
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ToolsJsonContext.Default));
        builder.AddToolServices();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseInternalServiceDefaults();
        app.MapDefaultEndpoints();
        app.MapServiceOpenApi();
        app.MapToolsApi();
        app.MapMcpEndpoint();
        app.MapProblemFallback("tool service");
        return app;
    }

    public static WebApplicationBuilder AddToolServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ToolOptions>().Configure<IConfiguration>(ToolOptions.Bind);
        builder.AddAdminState(); // enableMCP, mcpTools, enableCLIMode changed by an admin apply here too, within a second
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IOptionsChangeTokenSource<ToolOptions>>(
            new Microsoft.Extensions.Options.ConfigurationChangeTokenSource<ToolOptions>(builder.Configuration));
        builder.Services.AddSingleton<OutboundGuard>();
        builder.Services.AddHttpClient(OutboundGuard.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(60))
            .WithoutDefaultResilience()
            .ConfigurePrimaryHttpMessageHandler(services => services.GetRequiredService<OutboundGuard>().CreateHandler());
        builder.Services.AddSingleton<Workspaces>();
        builder.Services.AddSingleton<ToolRegistry>();
        builder.Services.AddSingleton<ITool, WebSearchTool>();
        builder.Services.AddSingleton<ITool, ImageGenTool>();
        builder.Services.AddSandbox().AddCliTools().AddCodeInterpreter();
        builder.Services.AddSingleton<ExternalMcpTools>();
        builder.Services.AddSingleton<IToolSource>(services => services.GetRequiredService<ExternalMcpTools>());
        builder.Services.AddHostedService(services => services.GetRequiredService<ExternalMcpTools>());
        builder.Services.AddMcpEndpoint();
        builder.Logging.AddFilter("ModelContextProtocol", LogLevel.Warning);
        return builder;
    }
}
