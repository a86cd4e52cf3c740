using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flowith2Api.ToolService.Outbound;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Builtin;

/// <summary><c>image_gen</c>: an OpenAI-compatible images endpoint (<c>IMAGE_API_BASE</c>/images/generations).</summary>
public sealed class ImageGenTool(IHttpClientFactory clients, OutboundGuard guard, IOptions<ToolOptions> options) : ITool, IToolAvailability
{
    private const string NoApi = "image_gen has no images API: set IMAGE_API_BASE (an OpenAI-compatible base URL such as https://api.openai.com/v1) and IMAGE_API_KEY.";

    public string? UnavailableReason => options.Value.ImageApiBase is null ? NoApi : null;

    public string Name => "image_gen";

    public string Description => "Generate images from a text prompt. Returns image URLs (or base64 data).";

    public JsonElement InputSchema { get; } = ToolArgs.Schema("""
        {"type":"object","properties":{
          "prompt":{"type":"string","description":"What the image should show"},
          "size":{"type":"string","description":"For example 1024x1024"},
          "n":{"type":"integer","description":"How many images (1-4, default 1)"},
          "response_format":{"type":"string","enum":["url","b64_json"]}},
         "required":["prompt"]}
        """);

    public ToolKind Kind => ToolKind.Builtin;

    public async Task<ToolResult> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var prompt = ToolArgs.Text(arguments, "prompt");
        if (string.IsNullOrWhiteSpace(prompt))
        {
            return ToolResult.Error("image_gen needs a non-empty 'prompt'.");
        }

        var settings = options.Value;
        if (settings.ImageApiBase is not { } apiBase)
        {
            return ToolResult.Error(NoApi);
        }

        var request = new ImageRequest(settings.ImageModel, prompt, Math.Clamp(ToolArgs.Number(arguments, "n") ?? 1, 1, 4),
            ToolArgs.Text(arguments, "size") ?? "1024x1024", ToolArgs.Text(arguments, "response_format") is "b64_json" ? "b64_json" : "url");
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(apiBase.AbsoluteUri.TrimEnd('/') + "/images/generations"))
        {
            Content = new StringContent(JsonSerializer.Serialize(request, BuiltinJsonContext.Default.ImageRequest), Encoding.UTF8, "application/json"),
        };
        if (settings.ImageApiKey is { } key)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        try
        {
            using var response = await clients.CreateClient(OutboundGuard.HttpClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var body = await guard.ReadCappedAsync(response.Content, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return ToolResult.Error($"The images API answered {(int)response.StatusCode}.");
            }

            var parsed = JsonSerializer.Deserialize(body, BuiltinJsonContext.Default.ImageResponse);
            var images = (parsed?.Data ?? []).Select(d => new GeneratedImage(d.Url, d.B64Json, d.RevisedPrompt)).ToList();
            return images.Count == 0
                ? ToolResult.Error("The images API returned no image.")
                : ToolResult.Json(new GeneratedImages(images), BuiltinJsonContext.Default.GeneratedImages);
        }
        catch (Exception e) when (e is HttpRequestException or OutboundRefusedException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return ToolResult.Error("Image generation failed: " + OutboundErrors.Describe(e));
        }
    }
}

public sealed record ImageRequest(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("size")] string Size,
    [property: JsonPropertyName("response_format")] string ResponseFormat);

public sealed class ImageResponse
{
    [JsonPropertyName("data")] public List<ImageData>? Data { get; set; }
}

public sealed class ImageData
{
    [JsonPropertyName("url")] public string? Url { get; set; }
    [JsonPropertyName("b64_json")] public string? B64Json { get; set; }
    [JsonPropertyName("revised_prompt")] public string? RevisedPrompt { get; set; }
}

public sealed record GeneratedImage(
    [property: JsonPropertyName("url")] string? Url,
    [property: JsonPropertyName("b64_json")] string? B64Json,
    [property: JsonPropertyName("revised_prompt")] string? RevisedPrompt);

public sealed record GeneratedImages([property: JsonPropertyName("images")] IReadOnlyList<GeneratedImage> Images);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SearxResponse))]
[JsonSerializable(typeof(SearchResults))]
[JsonSerializable(typeof(ImageRequest))]
[JsonSerializable(typeof(ImageResponse))]
[JsonSerializable(typeof(GeneratedImages))]
internal sealed partial class BuiltinJsonContext : JsonSerializerContext;
