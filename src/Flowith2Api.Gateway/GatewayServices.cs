using Flowith2Api.Gateway.Auth;
using Flowith2Api.Gateway.Errors;
using Flowith2Api.Gateway.Proxy;
using Flowith2Api.ServiceDefaults;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;

namespace Flowith2Api.Gateway;

public static class GatewayServices
{
    public static WebApplicationBuilder AddGatewayServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>()
            .BindConfiguration(GatewayOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        UsePublicPort(builder);
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<KeyRateLimiter>();
        builder.Services.AddSingleton<ConsoleSessionStore>();
        builder.Services.AddSingleton<SignInThrottle>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddEdgeAuth();
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ConsoleSessionJsonContext.Default));
        builder.Services.AddSingleton<IdentityHeadersTransform>();
        if (builder.AddAdminState())
        {
            builder.Services.AddSingleton<IAdminStateCache, AdminKeySource>();
        }

        builder.AddRedisWhenConfigured();
        builder.Services.AddSingleton<IConfigureOptions<KestrelServerOptions>, ConfigureKestrelLimits>();

        var gatewayOptions = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
        builder.Services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, GatewayHttpClientFactory>();
        builder.Services.AddSingleton<OpenApi.OpenApiDocumentApi.Cache>();
        builder.Services.AddReverseProxy()
            .LoadFromMemory(GatewayRoutes.Routes, GatewayRoutes.Clusters(gatewayOptions, builder.Configuration))
            .AddTransforms(transforms =>
            {
                transforms.AddRequestTransform(transforms.Services.GetRequiredService<IdentityHeadersTransform>().ApplyAsync);
                transforms.AddResponseTransform(OverheadTransform.ApplyAsync);
            })
            .AddServiceDiscoveryDestinationResolver();
        builder.Services.Configure<Yarp.ReverseProxy.Health.TransportFailureRateHealthPolicyOptions>(health =>
        {
            // A replica that refuses or resets connections is noticed within seconds, not a minute.
            health.DetectionWindowSize = TimeSpan.FromSeconds(10);
            health.MinimalTotalCountThreshold = 5;
            health.DefaultFailureRateLimit = 0.3;
        });
        return builder;
    }

    public static WebApplication MapGatewayProxy(this WebApplication app)
    {
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<ForwardingErrorMiddleware>();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        // Console pages are only read (their YARP routes take GET and HEAD): every change goes through the admin API.
        app.Map("/admin/{**rest}", static context =>
        {
            context.Response.Headers.Allow = "GET, HEAD";
            return DialectErrors.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "Console pages are only read (GET).", "method_not_allowed");
        }).WithOrder(1).AllowAnonymous();
        app.MapFallback(static context => DialectErrors.WriteAsync(context, StatusCodes.Status404NotFound,
            $"Unknown route: {context.Request.Method} {context.Request.Path}. See GET /v1/models and the README for the API surface.",
            "unknown_route"));
        return app;
    }

    /// <summary>
    /// <c>PORT</c> [8787] is the public port when nothing else (ASPNETCORE_URLS, --urls, the AppHost's endpoint)
    /// says where to listen.
    /// </summary>
    private static void UsePublicPort(WebApplicationBuilder builder)
    {
        if (!string.IsNullOrEmpty(builder.Configuration["urls"])
            || !string.IsNullOrEmpty(builder.Configuration["http_ports"])
            || builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            return;
        }

        var port = int.TryParse(builder.Configuration[SeedSettings.Port], out var p) && p is > 0 and < 65536 ? p : 8787;
        builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
    }

    private sealed class ConfigureKestrelLimits(IOptions<GatewayOptions> options) : IConfigureOptions<KestrelServerOptions>
    {
        public void Configure(KestrelServerOptions kestrel)
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.Value.MaxRequestBodyBytes;
        }
    }
}
