using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.ToolService;

/// <summary>Builds the ToolService: the tool registry, the sandbox and the MCP endpoint live here.</summary>
public static class ToolServiceApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = ServiceHost.CreateBuilder(args);
        builder.Services.AddProblemDetails();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseInternalServiceDefaults();
        app.MapDefaultEndpoints();
        app.MapProblemFallback("tool service");
        return app;
    }
}
