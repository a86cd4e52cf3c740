using Flowith2Api.AdminService.Data;
using Flowith2Api.Contracts;

namespace Flowith2Api.AdminService.Apis;

/// <summary>
/// <c>GET /internal/changes</c> (internal door): the change counters per kind of admin state, which the services read
/// once a second when there is no Redis to announce changes (embedded mode).
/// </summary>
public static class InternalChangesApi
{
    public static IEndpointRouteBuilder MapInternalChangesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(AdminChangeVersions.Path, (ChangeNotifier notifier) =>
            TypedResults.Json(new AdminChangeVersions(notifier.Epoch, new(notifier.Versions)), AdminChangeVersionsJsonContext.Default.AdminChangeVersions));
        return app;
    }
}
