namespace Flowith2Api.ChatService.Conversation;

/// <summary>The ToolService's tools a dialect's hosted tools stand for.</summary>
public static class ServerToolNames
{
    public const string WebSearch = "web_search";

    public const string CodeInterpreter = "code_interpreter";
}
