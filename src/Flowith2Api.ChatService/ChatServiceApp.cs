using Flowith2Api.ChatService.Apis;

namespace Flowith2Api.ChatService;

/// <summary>Builds the ChatService: dialects → conversation model → Flowith adapter.</summary>
public static class ChatServiceApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = ServiceHost.CreateBuilder(args);
        builder.AddChatServices();
        builder.Services.AddServiceOpenApi();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseInternalServiceDefaults();
        app.UseMiddleware<Conversation.ChatStatsMiddleware>();
        app.MapDefaultEndpoints();
        app.MapServiceOpenApi();
        app.MapChatTurnsApi();
        app.MapOpenAIResponsesApi();
        app.MapModelsApi();
        app.MapAdminSessionsApi();
        // Every path and method no endpoint takes (file-like paths too: the default fallback skips those), in the route's
        // envelope — OpenAI answers a wrong method with the same 404.
        app.MapFallback("{**path}", static context => LastResortErrors.WriteInRouteDialectAsync(context, StatusCodes.Status404NotFound,
            $"Unknown route: {context.Request.Method} {context.Request.Path}.", "not_found_error", "unknown_route"));
        return app;
    }
}
