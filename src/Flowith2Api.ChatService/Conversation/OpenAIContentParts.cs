namespace Flowith2Api.ChatService.Conversation;

/// <summary>Message content as OpenAI's Chat Completions and Responses APIs both send it: a string, or typed parts.</summary>
public static class OpenAIContentParts
{
    /// <summary>A message's role; "developer" is a system message, and with <paramref name="toolRoles"/> "tool" (or the older "function") a tool result.</summary>
    public static RequestError? ReadRole(string? name, string param, bool toolRoles, out ConversationRole role)
    {
        role = ConversationRole.User;
        switch (name)
        {
            case "system" or "developer":
                role = ConversationRole.System;
                return null;
            case "user":
                return null;
            case "assistant":
                role = ConversationRole.Assistant;
                return null;
            case "tool" or "function" when toolRoles:
                role = ConversationRole.Tool;
                return null;
            case null:
                return new RequestError($"{param}.role is required.", $"{param}.role", "missing_required_parameter");
            default:
                return new RequestError(
                    $"{param}.role '{RequestReading.Truncate(name)}' is not one of system, developer, user, assistant{(toolRoles ? ", tool" : "")}.", $"{param}.role");
        }
    }

    /// <summary>Content as a string, or parts (text, image_url, input_image, files, audio) as typed parts.</summary>
    public static RequestError? ReadContent(JsonElement? content, string param, out List<ContentPart> parts)
    {
        parts = [];
        if (content is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            parts.Add(new TextPart(element.GetString() ?? ""));
            return null;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return new RequestError($"{param} must be a string or an array of content parts.", param);
        }

        var index = 0;
        foreach (var part in element.EnumerateArray())
        {
            var partParam = $"{param}[{index++}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return new RequestError($"{partParam} must be an object with a 'type'.", partParam);
            }

            switch (type.GetString())
            {
                case "text" or "input_text" or "output_text":
                    if (!part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                    {
                        return new RequestError($"{partParam}.text must be a string.", $"{partParam}.text");
                    }

                    parts.Add(new TextPart(partText.GetString()!));
                    break;
                case "image_url" or "input_image":
                    if (!HasImage(part, type.GetString()!))
                    {
                        return type.GetString() == "image_url"
                            ? new RequestError($"{partParam}.image_url must be {{\"url\": \"https://… or data:…\"}}.", $"{partParam}.image_url")
                            : new RequestError($"{partParam} needs an 'image_url' (a URL or data URL) or a 'file_id'.", $"{partParam}.image_url");
                    }

                    parts.Add(new AttachmentPart(AttachmentPart.Image, ImageUrl(part)));
                    break;
                case "input_audio" or "file" or "input_file":
                    if (!HasObjectOrString(part, type.GetString() == "input_audio" ? "input_audio" : "file")
                        && !HasObjectOrString(part, "file_id") && !HasObjectOrString(part, "file_data") && !HasObjectOrString(part, "file_url"))
                    {
                        return new RequestError($"{partParam} has no content: send its data or a file id.", partParam);
                    }

                    parts.Add(new AttachmentPart(AttachmentPart.File));
                    break;
                default:
                    return new RequestError($"{partParam}.type '{RequestReading.Truncate(type.GetString())}' is not supported; use text or image_url.", $"{partParam}.type");
            }
        }

        return null;
    }

    /// <summary>Chat's <c>{"image_url":{"url"}}</c> (or a bare URL string), Responses' <c>image_url</c> string or <c>file_id</c>.</summary>
    private static bool HasImage(JsonElement part, string type)
    {
        if (part.TryGetProperty("image_url", out var image))
        {
            if (image.ValueKind == JsonValueKind.String && image.GetString() is { Length: > 0 })
            {
                return true;
            }

            if (image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String
                && url.GetString() is { Length: > 0 })
            {
                return true;
            }
        }

        return type == "input_image" && part.TryGetProperty("file_id", out var file) && file.ValueKind == JsonValueKind.String && file.GetString() is { Length: > 0 };
    }

    private static bool HasObjectOrString(JsonElement part, string name) =>
        part.TryGetProperty(name, out var value) && (value.ValueKind == JsonValueKind.Object || (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 }));

    /// <summary>The image's URL (or data URL) when the part gives one.</summary>
    private static string? ImageUrl(JsonElement part) =>
        !part.TryGetProperty("image_url", out var image) ? null
        : image.ValueKind == JsonValueKind.String ? image.GetString()
        : image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String ? url.GetString()
        : null;
}
