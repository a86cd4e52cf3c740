using Flowith2Api.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Flowith2Api.ServiceDefaults;

public static class AdminEndpointFilter
{
    /// <summary>
    /// Admin routes answer only calls the Gateway marked as made with the admin key (defence in depth: the Gateway
    /// already refuses non-admin keys on these routes).
    /// </summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static (context, next) =>
            context.HttpContext.Request.Headers[InternalHeaders.KeyIsAdmin] == "true"
                ? next(context)
                : ValueTask.FromResult<object?>(TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, detail: "This route needs the admin key.")));
}
