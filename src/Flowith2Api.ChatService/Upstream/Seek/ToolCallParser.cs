using System.Text.RegularExpressions;
using Flowith2Api.ChatService.Tools;

namespace Flowith2Api.ChatService.Upstream.Seek;

/// <summary>
/// Finds <c>&lt;tool_call name="…"&gt;{json}&lt;/tool_call&gt;</c> in upstream text as it streams. Text that may be the
/// start of a call is held back until it is known, so a half-written call never leaks as text; a complete call
/// becomes a <see cref="ToolCall"/> when its tool exists and its arguments can be read and match the schema, and
/// plain text (with a log line) when not.
/// </summary>
public sealed partial class ToolCallParser(IReadOnlyList<ToolDefinition> tools, ILogger logger)
{
    /// <summary>A call that never closes is given up (as text) past this size.</summary>
    private const int MaxCallLength = 1 << 20;

    private string _buffer = "";
    private bool _inCall;
    private int _count;

    /// <summary>Text and tool calls that can be emitted now.</summary>
    public IReadOnlyList<(string? Text, ToolCall? Call)> Push(string text)
    {
        _buffer += text;
        var output = new List<(string?, ToolCall?)>(2);
        while (_buffer.Length > 0)
        {
            if (!_inCall)
            {
                var start = FindOpenTag(_buffer, out var undecided);
                if (start >= 0)
                {
                    Emit(output, _buffer[..start]);
                    _buffer = _buffer[start..];
                    _inCall = true;
                    continue;
                }

                Emit(output, _buffer[..^undecided]);
                _buffer = _buffer[^undecided..];
                break;
            }

            var end = _buffer.IndexOf(ToolCallFormat.CloseTag, StringComparison.Ordinal);
            if (end < 0)
            {
                if (_buffer.Length > MaxCallLength)
                {
                    LogUnparsed(logger, "never closed");
                    Emit(output, _buffer);
                    _buffer = "";
                    _inCall = false;
                }

                break;
            }

            var raw = _buffer[..(end + ToolCallFormat.CloseTag.Length)];
            _buffer = _buffer[raw.Length..];
            _inCall = false;
            AddCall(output, raw);
        }

        return output;
    }

    /// <summary>The end of the answer: an unclosed call is tried as one anyway, held-back text is text.</summary>
    public IReadOnlyList<(string? Text, ToolCall? Call)> Flush()
    {
        var output = new List<(string?, ToolCall?)>(1);
        if (_inCall)
        {
            AddCall(output, _buffer + ToolCallFormat.CloseTag, unclosed: _buffer);
        }
        else
        {
            Emit(output, _buffer);
        }

        _buffer = "";
        _inCall = false;
        return output;
    }

    private void AddCall(List<(string?, ToolCall?)> output, string raw, string? unclosed = null)
    {
        var call = TryParse(raw, out var problem);
        if (call is null)
        {
            LogUnparsed(logger, problem);
            Emit(output, unclosed ?? raw);
            return;
        }

        output.Add((null, call));
    }

    private ToolCall? TryParse(string raw, out string problem)
    {
        var match = CallElement().Match(raw);
        if (!match.Success)
        {
            problem = "not a tool_call element";
            return null;
        }

        var name = match.Groups["name"].Success ? match.Groups["name"].Value.Trim() : null;
        var body = match.Groups["body"].Value;
        if (name is null && !TryReadNamedBody(ref body, out name))
        {
            problem = "no tool name";
            return null;
        }

        var tool = tools.FirstOrDefault(t => t.Name == name) ?? tools.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
        if (tool is null)
        {
            problem = $"unknown tool '{name}'";
            return null;
        }

        var arguments = ToolArguments.Normalize(body);
        if (arguments is null)
        {
            problem = $"arguments of '{tool.Name}' are not JSON";
            return null;
        }

        if (ToolArguments.Validate(arguments, tool.Schema) is { } invalid)
        {
            problem = $"arguments of '{tool.Name}' do not match its schema: {invalid}";
            return null;
        }

        problem = "";
        return new ToolCall(_count++, NewCallId(), tool.Name, arguments);
    }

    /// <summary>A new tool call's id.</summary>
    public static string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    /// <summary>The other shape models use: <c>&lt;tool_call&gt;{"name":…,"arguments":{…}}&lt;/tool_call&gt;</c>.</summary>
    private static bool TryReadNamedBody(ref string body, out string? name)
    {
        name = null;
        var normalized = ToolArguments.Normalize(body);
        if (normalized is null)
        {
            return false;
        }

        using var document = JsonDocument.Parse(normalized);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        name = n.GetString();
        foreach (var key in (ReadOnlySpan<string>)["arguments", "parameters", "input"])
        {
            if (root.TryGetProperty(key, out var arguments))
            {
                body = arguments.ValueKind == JsonValueKind.String ? arguments.GetString()! : arguments.GetRawText();
                return true;
            }
        }

        body = "{}";
        return true;
    }

    /// <summary>
    /// Where a call starts (<c>&lt;tool_call</c> followed by a space or <c>&gt;</c>), or -1; <paramref name="undecided"/>
    /// is how many characters at the end may still turn out to start one.
    /// </summary>
    private static int FindOpenTag(string text, out int undecided)
    {
        undecided = 0;
        var from = 0;
        while (true)
        {
            var index = text.IndexOf(ToolCallFormat.OpenTag, from, StringComparison.Ordinal);
            if (index < 0)
            {
                break;
            }

            var after = index + ToolCallFormat.OpenTag.Length;
            if (after == text.Length)
            {
                undecided = text.Length - index;
                return -1;
            }

            if (text[after] is '>' or ' ' or '\t' or '\n' or '\r')
            {
                return index;
            }

            from = after;
        }

        for (var length = Math.Min(ToolCallFormat.OpenTag.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(ToolCallFormat.OpenTag.AsSpan(0, length)))
            {
                undecided = length;
                break;
            }
        }

        return -1;
    }

    private static void Emit(List<(string?, ToolCall?)> output, string text)
    {
        if (text.Length > 0)
        {
            output.Add((text, null));
        }
    }

    [GeneratedRegex(@"^<tool_call(?:\s+name\s*=\s*[""'](?<name>[^""']+)[""'])?\s*>(?<body>.*)</tool_call>$", RegexOptions.Singleline)]
    private static partial Regex CallElement();

    [LoggerMessage(Level = LogLevel.Information, Message = "A tool call in the upstream's answer was passed on as text: {Problem}")]
    private static partial void LogUnparsed(ILogger logger, string problem);
}
