using System.Text;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>
/// Lets the JSON of a streamed JSON-mode answer through as it comes, and nothing around it. The value starts at a
/// <c>{</c> (or, for a schema, a <c>[</c>) that opens a line — the answer's first character, the line after a Markdown
/// fence, the line after "Here it is:" — and ends where its brackets close (strings and escapes followed), so a fence,
/// a preamble and a closing sentence never reach the client, and the client's parser sees the object grow. An answer
/// whose JSON never opens a line (inline in prose) is only held, for <see cref="JsonOutput.Extract"/> at the end.
/// </summary>
public sealed class JsonStreamGate(OutputFormat format)
{
    private readonly bool _arrays = format.Kind == OutputFormatKind.JsonSchema;
    private readonly StringBuilder _held = new();
    private int _scanned;
    private bool _lineHasText;
    private int _depth;
    private bool _inString;
    private bool _escaped;

    /// <summary>The JSON value has opened: what follows is streamed.</summary>
    public bool Started { get; private set; }

    /// <summary>The JSON value has closed: anything after it is dropped.</summary>
    public bool Done { get; private set; }

    /// <summary>All the answer's text while no value had opened (for the extraction at the end).</summary>
    public string Held => _held.ToString();

    /// <summary>What of <paramref name="text"/> goes to the client now: the JSON's part of it.</summary>
    public string Push(string text)
    {
        if (Done || text.Length == 0)
        {
            return "";
        }

        if (Started)
        {
            return Follow(text);
        }

        _held.Append(text);
        for (; _scanned < _held.Length; _scanned++)
        {
            var c = _held[_scanned];
            if (c == '\n')
            {
                _lineHasText = false;
            }
            else if (char.IsWhiteSpace(c))
            {
                continue;
            }
            else if (!_lineHasText && (c == '{' || (_arrays && c == '[')))
            {
                Started = true;
                var rest = _held.ToString(_scanned, _held.Length - _scanned);
                _held.Clear();
                return Follow(rest);
            }
            else
            {
                _lineHasText = true;
            }
        }

        return "";
    }

    /// <summary>The part of <paramref name="text"/> up to where the value closes.</summary>
    private string Follow(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (_inString)
            {
                if (_escaped)
                {
                    _escaped = false;
                }
                else if (c == '\\')
                {
                    _escaped = true;
                }
                else if (c == '"')
                {
                    _inString = false;
                }
            }
            else if (c == '"')
            {
                _inString = true;
            }
            else if (c is '{' or '[')
            {
                _depth++;
            }
            else if (c is '}' or ']' && --_depth == 0)
            {
                Done = true;
                return text[..(i + 1)];
            }
        }

        return text;
    }
}
