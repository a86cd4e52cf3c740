using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.ToolService;

/// <summary>Builds the ToolService: the tool registry, the sandbox and the MCP endpoint live here.</summary>
public static class ToolServiceApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        builder.AddServiceDefaults();
        builder.Services.AddProblemDetails();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseInternalServiceDefaults();
        app.MapDefaultEndpoints();
        app.MapFallback(static (HttpContext context) => TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Not found",
            detail: $"The tool service has no route {context.Request.Method} {context.Request.Path}."));
        return app;
    }
}
