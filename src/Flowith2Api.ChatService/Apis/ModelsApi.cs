using Flowith2Api.ChatService.Models;
using Flowith2Api.Contracts;

namespace Flowith2Api.ChatService.Apis;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>, in OpenAI's form or, with <c>anthropic-version</c>, Anthropic's.</summary>
public static class ModelsApi
{
    /// <summary>A fixed creation time: the catalogue has no real one, and clients sort by it.</summary>
    private const long CreatedUnix = 1_735_689_600; // 2025-01-01

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", ListModelsAsync).WithTags("Models").WithSummary("List the models");
        app.MapGet("/v1/models/{**id}", GetModelAsync).WithTags("Models").WithSummary("Get a model");
        return app;
    }

    public static string NotFoundMessage(string model) =>
        $"The model '{(model.Length > 100 ? model[..100] + "…" : model)}' does not exist. List the available models with GET /v1/models, "
        + $"or map this name onto one of them with MODEL_ALIASES (for example MODEL_ALIASES=\"{(model.Length > 40 ? "my-model" : model)}=gpt-4.1\").";

    public static async Task ListModelsAsync(HttpContext context, ModelCatalog catalog)
    {
        var models = await catalog.ListAsync(context.RequestAborted);
        var anthropic = IsAnthropic(context);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            if (anthropic)
            {
                json.WriteStartArray("data");
                foreach (var model in models)
                {
                    WriteAnthropicModel(json, model);
                }

                json.WriteEndArray();
                json.WriteBoolean("has_more", false);
                json.WriteString("first_id", models.Count > 0 ? models[0].Id : null);
                json.WriteString("last_id", models.Count > 0 ? models[^1].Id : null);
            }
            else
            {
                json.WriteString("object", "list");
                json.WriteStartArray("data");
                foreach (var model in models)
                {
                    WriteOpenAIModel(json, model);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        });
    }

    public static async Task GetModelAsync(HttpContext context, string id, ModelCatalog catalog)
    {
        var model = await catalog.ResolveAsync(id, context.RequestAborted);
        var anthropic = IsAnthropic(context);
        if (model is null)
        {
            await ErrorEnvelopes.WriteResponseAsync(context, StatusCodes.Status404NotFound, json =>
            {
                if (anthropic)
                {
                    ErrorEnvelopes.WriteAnthropic(json, NotFoundMessage(id), "not_found_error", context.TraceIdentifier);
                }
                else
                {
                    ErrorEnvelopes.WriteOpenAI(json, NotFoundMessage(id), "invalid_request_error", "model_not_found", "model");
                }
            });
            return;
        }

        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            if (anthropic)
            {
                WriteAnthropicModel(json, model);
            }
            else
            {
                WriteOpenAIModel(json, model);
            }
        });
    }

    private static bool IsAnthropic(HttpContext context) => context.Request.Headers.ContainsKey("anthropic-version");

    private static void WriteOpenAIModel(Utf8JsonWriter json, ModelEntry model)
    {
        json.WriteStartObject();
        json.WriteString("id", model.Id);
        json.WriteString("object", "model");
        json.WriteNumber("created", CreatedUnix);
        json.WriteString("owned_by", "flowith");
        json.WriteEndObject();
    }

    private static void WriteAnthropicModel(Utf8JsonWriter json, ModelEntry model)
    {
        json.WriteStartObject();
        json.WriteString("type", "model");
        json.WriteString("id", model.Id);
        json.WriteString("display_name", model.Id);
        json.WriteString("created_at", DateTimeOffset.FromUnixTimeSeconds(CreatedUnix).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        json.WriteEndObject();
    }
}
