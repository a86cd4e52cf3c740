using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Flowith2Api.ServiceDefaults;

/// <summary>How every Flowith2Api service starts: the same builder, the same fallback.</summary>
public static class ServiceHost
{
    /// <summary>
    /// A web application builder with the service defaults. The content root is the binary's folder, so a service
    /// started from another directory (as the AppHost and the tests do) still finds its appsettings.json.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        SecretHandover.AddTo(builder.Configuration); // the secrets a sealed process was handed (SecretHandover.SealProcess)
        builder.AddServiceDefaults();

        // The Gateway enforces the public body limit; behind it, a service never refuses what the Gateway let through.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 256L * 1024 * 1024;
            // Past the descriptor budget Kestrel closes new connections at once instead of failing inside the process
            // (accept, upstream connects and file opens all start failing when descriptors run out).
            kestrel.Limits.MaxConcurrentConnections ??= ProcessLimits.ConnectionBudget;
        });
        return builder;
    }

    /// <summary>A ProblemDetails 404 for every route an internal service does not have.</summary>
    public static WebApplication MapProblemFallback(this WebApplication app, string serviceName)
    {
        app.MapFallback((HttpContext context) => TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Not found",
            detail: $"The {serviceName} has no route {context.Request.Method} {context.Request.Path}."));
        return app;
    }
}
