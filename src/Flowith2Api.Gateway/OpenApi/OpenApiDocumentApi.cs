using System.Text.Json.Nodes;
using Flowith2Api.Contracts;
using Flowith2Api.Gateway.Auth;
using Flowith2Api.Gateway.Errors;
using Flowith2Api.Gateway.Proxy;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.Gateway.OpenApi;

/// <summary>
/// <c>GET /openapi/v1.json</c> (admin key): the public and admin API in one OpenAPI document, merged from what each
/// service generates for the routes it serves (<see cref="ServiceOpenApi"/>): their paths, schemas and tags, with the
/// Gateway's ways to present a key as the security schemes. Built once, when every service has answered.
/// </summary>
public static partial class OpenApiDocumentApi
{
    public const string Path = ServiceOpenApi.DocumentPath;
    public const string HttpClientName = "openapi";

    private static readonly string[] Services = [GatewayRoutes.ChatCluster, GatewayRoutes.AdminCluster, GatewayRoutes.ToolCluster];
    /// <summary>The merged document, once built (one per Gateway).</summary>
    public sealed class Cache
    {
        public SemaphoreSlim Building { get; } = new(1, 1);

        public string? Document { get; set; }
    }

    public static IEndpointRouteBuilder MapOpenApiDocument(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, GetAsync).ExcludeFromDescription().RequireAuthorization(EdgeAuth.AdminPolicy);
        return app;
    }

    private static async Task GetAsync(HttpContext context, Cache cache, IHttpClientFactory clients, InternalSecret secret, ILoggerFactory loggers)
    {
        var document = cache.Document;
        if (document is null)
        {
            await cache.Building.WaitAsync(context.RequestAborted);
            try
            {
                document = cache.Document ??= await BuildAsync(clients.CreateClient(HttpClientName), secret, loggers.CreateLogger(typeof(OpenApiDocumentApi)), context.RequestAborted);
            }
            finally
            {
                cache.Building.Release();
            }
        }

        if (document is null)
        {
            await DialectErrors.WriteAsync(context, StatusCodes.Status502BadGateway,
                "The API description could not be gathered from the services behind the gateway; try again.", "bad_gateway");
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.WriteAsync(document, context.RequestAborted);
    }

    private static async Task<string?> BuildAsync(HttpClient http, InternalSecret secret, ILogger logger, CancellationToken cancellationToken)
    {
        var parts = new List<JsonObject>();
        foreach (var service in Services)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{service}{ServiceOpenApi.DocumentPath}");
                if (secret.Value is { } value)
                {
                    request.Headers.TryAddWithoutValidation(InternalHeaders.Secret, value);
                }

                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                using var response = await http.SendAsync(request, timeout.Token);
                response.EnsureSuccessStatusCode();
                parts.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync(timeout.Token))!.AsObject());
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException or InvalidOperationException)
            {
                LogUnavailable(logger, service, e.GetType().Name);
                return null;
            }
        }

        return Merge(parts).ToJsonString();
    }

    /// <summary>One document from the services' own: paths, component schemas and tags side by side.</summary>
    public static JsonObject Merge(IReadOnlyList<JsonObject> parts)
    {
        var paths = new JsonObject();
        var schemas = new JsonObject();
        var tags = new JsonArray();
        var tagNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            foreach (var (path, item) in part["paths"]?.AsObject() ?? [])
            {
                paths[path] = item?.DeepClone();
            }

            foreach (var (name, schema) in part["components"]?["schemas"]?.AsObject() ?? [])
            {
                if (!schemas.ContainsKey(name))
                {
                    schemas[name] = schema?.DeepClone();
                }
            }

            foreach (var tag in part["tags"]?.AsArray() ?? [])
            {
                if (tag?["name"]?.GetValue<string>() is { } name && tagNames.Add(name))
                {
                    tags.Add(tag.DeepClone());
                }
            }
        }

        return new JsonObject
        {
            ["openapi"] = parts.Count > 0 ? parts[0]["openapi"]?.DeepClone() : "3.1.1",
            ["info"] = new JsonObject
            {
                ["title"] = "Flowith2Api",
                ["version"] = "v1",
                ["description"] = "OpenAI-, Anthropic- and Responses-compatible API in front of Flowith, and the admin API. "
                    + "Extensions: session_id / auto_session in request bodies and the x-session-id header keep a conversation on the gateway; "
                    + "reasoning_content carries the model's thinking in OpenAI chat answers. Admin routes (/v1/admin/...) need the admin key.",
            },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["schemas"] = schemas,
                ["securitySchemes"] = new JsonObject
                {
                    ["bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer", ["description"] = "Authorization: Bearer <key>" },
                    ["apiKey"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = "x-api-key", ["description"] = "x-api-key: <key>" },
                },
            },
            ["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() }, new JsonObject { ["apiKey"] = new JsonArray() }),
            ["tags"] = tags,
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Service} did not give its API description ({ExceptionType})")]
    private static partial void LogUnavailable(ILogger logger, string service, string exceptionType);
}
