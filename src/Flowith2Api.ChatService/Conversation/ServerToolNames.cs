using System.Collections.Frozen;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>The ToolService's tools a dialect's hosted tools stand for, and the sets a request asks for.</summary>
public static class ServerToolNames
{
    public const string WebSearch = "web_search";

    public const string CodeInterpreter = "code_interpreter";

    /// <summary>No server tool asked for (shared: most requests ask for none).</summary>
    public static readonly IReadOnlySet<string> None = FrozenSet<string>.Empty;

    public static readonly IReadOnlySet<string> WebSearchOnly = new[] { WebSearch }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The set with <paramref name="name"/> added (a new set: the shared ones never change).</summary>
    public static IReadOnlySet<string> With(IReadOnlySet<string> set, string name) =>
        set.Contains(name) ? set : new HashSet<string>(set, StringComparer.Ordinal) { name };
}
