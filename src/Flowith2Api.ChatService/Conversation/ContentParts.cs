using System.Text.Json.Serialization;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>One piece of a message's content.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(TextPart), "text")]
[JsonDerivedType(typeof(AttachmentPart), "attachment")]
[JsonDerivedType(typeof(ToolCallPart), "tool_call")]
[JsonDerivedType(typeof(ToolResultPart), "tool_result")]
[JsonDerivedType(typeof(ToolInstructionsPart), "tool_instructions")]
public abstract record ContentPart;

public sealed record TextPart(string Text) : ContentPart;

/// <summary>
/// Something attached to a message that is not text: an image, a file, a document, audio. <paramref name="Kind"/> is
/// what it is ("image", "file", "document", or the client's own type name); <paramref name="Url"/> where it is (a URL
/// or a data URL) when the client said.
/// </summary>
public sealed record AttachmentPart(string Kind, string? Url = null, string? MediaType = null) : ContentPart
{
    public const string Image = "image";
    public const string File = "file";
    public const string Document = "document";
}

/// <summary>A tool call the assistant made earlier in the conversation.</summary>
public sealed record ToolCallPart(string? Id, string Name, string ArgumentsJson) : ContentPart;

/// <summary>What a tool answered to a call (<paramref name="Name"/> recovered from the call when the client did not say).</summary>
public sealed record ToolResultPart(string? CallId, string? Name, IReadOnlyList<ContentPart> Content, bool IsError = false) : ContentPart
{
    public bool Equals(ToolResultPart? other) =>
        other is not null && CallId == other.CallId && Name == other.Name && IsError == other.IsError && Content.SequenceEqual(other.Content);

    public override int GetHashCode() => HashCode.Combine(CallId, Name, IsError, Content.Count);
}

/// <summary>
/// Where the description of the request's tools goes in the prompt, for an upstream without native tools (its
/// adapter writes it there from <see cref="ConversationRequest.Tools"/>; one with native tools leaves it out).
/// </summary>
public sealed record ToolInstructionsPart : ContentPart
{
    public static ToolInstructionsPart Instance { get; } = new();
}
