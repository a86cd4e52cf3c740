using Flowith2Api.Gateway.Auth;
using Flowith2Api.Gateway.OpenApi;
using Flowith2Api.Gateway.Proxy;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.Gateway;

/// <summary>Builds the Gateway: the only public port, YARP in front of the services.</summary>
public static class GatewayApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = ServiceHost.CreateBuilder(args);
        builder.AddGatewayServices();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseGatewayRequestStart();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseLastResortErrors();
        app.UseRouting();
        app.UseAuthorization();
        app.UseMiddleware<KeyLimitsMiddleware>();
        app.MapDefaultEndpoints(metricsPolicy: EdgeAuth.AdminPolicy);
        app.MapConsoleSessionApi();
        app.MapOpenApiDocument();
        app.MapGatewayProxy();
        return app;
    }
}
