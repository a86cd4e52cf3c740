using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// Each service describes the public routes it serves (ASP.NET's OpenAPI generator, from the endpoints' metadata) at
/// <see cref="DocumentPath"/> on its internal door; the Gateway merges the services' documents into the one users read
/// at <c>/openapi/v1.json</c>. The services' own doors (<c>/internal</c>), health, metrics and the console's pages are
/// left out.
/// </summary>
public static class ServiceOpenApi
{
    public const string DocumentPath = "/openapi/v1.json";

    private static readonly string[] Hidden = ["internal", "health", "alive", "ready", "metrics", "openapi", "admin/"];

    public static IServiceCollection AddServiceOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.ShouldInclude = description => description.RelativePath is { } path
                && !Hidden.Any(hidden => path.StartsWith(hidden, StringComparison.OrdinalIgnoreCase) || path == hidden.TrimEnd('/'))
                && !path.Contains("{**path}", StringComparison.Ordinal); // the fallbacks
        });

    public static IEndpointRouteBuilder MapServiceOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(DocumentPath);
        return app;
    }
}
