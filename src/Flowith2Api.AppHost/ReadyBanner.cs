using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flowith2Api.AppHost;

/// <summary>
/// Once the Gateway is ready, says where everything is: the API's base URL (what an SDK or Claude Code is pointed at),
/// the web console, and the Aspire dashboard (whose login link Aspire prints itself).
/// </summary>
internal static partial class ReadyBanner
{
    public static IResourceBuilder<ProjectResource> WithReadyBanner(this IResourceBuilder<ProjectResource> gateway, IConfiguration configuration)
    {
        gateway.OnResourceReady((resource, ready, _) =>
        {
            var http = resource.GetEndpoint("http");
            if (!http.IsAllocated)
            {
                return Task.CompletedTask;
            }

            var url = http.Url.TrimEnd('/');
            var dashboard = configuration["ASPNETCORE_URLS"]?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
            var logger = ready.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Flowith2Api");
            LogReady(logger, url, url + "/v1", url + "/admin", dashboard ?? "not running (no dashboard URL configured)");
            return Task.CompletedTask;
        });
        return gateway;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Flowith2Api is ready. Gateway: {Gateway} (OpenAI and Anthropic base URL: {BaseUrl}) · Web console: {Console} · Dashboard: {Dashboard}")]
    private static partial void LogReady(ILogger logger, string gateway, string baseUrl, string console, string dashboard);
}
