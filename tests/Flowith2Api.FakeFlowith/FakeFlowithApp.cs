using System.Net;

namespace Flowith2Api.FakeFlowith;

/// <summary>Builds the fake Flowith web app, for the process (<see cref="Program"/>) and in-process use alike.</summary>
public static class FakeFlowithApp
{
    /// <summary>An environment variable overriding <c>FakeFlowith:DefaultScenario</c>.</summary>
    public const string DefaultScenarioEnvironmentVariable = "FAKE_FLOWITH_DEFAULT_SCENARIO";

    /// <summary>
    /// The process app: URLs from <c>--urls</c> / <c>ASPNETCORE_URLS</c>, options from the
    /// <c>FakeFlowith</c> configuration section and <see cref="DefaultScenarioEnvironmentVariable"/>.
    /// </summary>
    public static WebApplication Create(string[] args)
    {
        var builder = CreateBuilder(args);
        var options = new FakeFlowithOptions();
        builder.Configuration.GetSection(FakeFlowithOptions.SectionName).Bind(options);
        var defaultScenario = Environment.GetEnvironmentVariable(DefaultScenarioEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(defaultScenario))
            options.DefaultScenario = defaultScenario;
        return Build(builder, options);
    }

    /// <summary>The in-process app: Kestrel on 127.0.0.1:<see cref="FakeFlowithOptions.Port"/> (0 = any free port).</summary>
    public static WebApplication Create(FakeFlowithOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = CreateBuilder([]);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
        return Build(builder, options);
    }

    /// <summary>Registers the fake server's state (options, scenarios, request log) and handlers.</summary>
    public static IServiceCollection AddFakeFlowith(this IServiceCollection services, FakeFlowithOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton(new FakeScenarioRegistry(options.ParseDefaultScenario(), options.RateLimitWindowSeconds));
        services.AddSingleton(new FakeRequestLog(options.RecordCapacity));
        services.AddSingleton<FlowithHandler>();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, FakeFlowithJsonContext.Default));
        return services;
    }

    /// <summary>Maps the Flowith routes, the <c>/_fake</c> control routes and <c>/health</c>.</summary>
    public static IEndpointRouteBuilder MapFakeFlowith(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapFlowithApi();
        endpoints.MapFakeControlApi();
        return endpoints;
    }

    private static WebApplicationBuilder CreateBuilder(string[] args) =>
        WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(FakeFlowithApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });

    private static WebApplication Build(WebApplicationBuilder builder, FakeFlowithOptions options)
    {
        // No per-request logging: the benchmark needs the fake to stay out of the way.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        if (options.Port > 0)
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
        builder.Services.AddFakeFlowith(options);

        var app = builder.Build();
        app.MapFakeFlowith();
        return app;
    }
}
