namespace Flowith2Api.ChatService.Conversation;

/// <summary>A piece of the answer, either reasoning (inside <c>&lt;think&gt;</c>) or content.</summary>
public readonly record struct AnswerPiece(bool IsReasoning, string Text);

/// <summary>
/// Splits upstream text into reasoning and content at <c>&lt;think&gt;</c>…<c>&lt;/think&gt;</c>, also when a tag is
/// split across pieces: a piece ending in what may be the start of a tag holds that tail back until the next piece
/// says what it is. Tags never reach the content; newlines right after a closing tag are dropped.
/// </summary>
public sealed class ThinkSplitter
{
    private const string Open = "<think>";
    private const string Close = "</think>";

    private readonly bool _enabled;
    private string _pending = "";
    private bool _inReasoning;
    private bool _trimNextContentStart;

    public ThinkSplitter(bool enabled) => _enabled = enabled;

    /// <summary>Feeds one upstream piece; returns what can be emitted now (possibly nothing).</summary>
    public IReadOnlyList<AnswerPiece> Push(string piece)
    {
        if (!_enabled)
        {
            return piece.Length == 0 ? [] : [new AnswerPiece(false, piece)];
        }

        var text = _pending + piece;
        _pending = "";
        var output = new List<AnswerPiece>(2);
        while (text.Length > 0)
        {
            var tag = _inReasoning ? Close : Open;
            var index = text.IndexOf(tag, StringComparison.Ordinal);
            if (index >= 0)
            {
                Emit(output, text[..index]);
                text = text[(index + tag.Length)..];
                _inReasoning = !_inReasoning;
                _trimNextContentStart = !_inReasoning;
                continue;
            }

            var hold = PartialTagSuffix(text, tag);
            Emit(output, text[..^hold]);
            _pending = text[^hold..];
            break;
        }

        return output;
    }

    /// <summary>The end of the answer: whatever was held back is emitted as what it turned out to be.</summary>
    public IReadOnlyList<AnswerPiece> Flush()
    {
        var output = new List<AnswerPiece>(1);
        Emit(output, _pending);
        _pending = "";
        return output;
    }

    /// <summary>Splits a whole answer at once (non-streaming).</summary>
    public static (string Reasoning, string Content) SplitWhole(string text, bool enabled)
    {
        var splitter = new ThinkSplitter(enabled);
        var reasoning = new System.Text.StringBuilder();
        var content = new System.Text.StringBuilder();
        foreach (var piece in splitter.Push(text).Concat(splitter.Flush()))
        {
            (piece.IsReasoning ? reasoning : content).Append(piece.Text);
        }

        return (reasoning.ToString(), content.ToString());
    }

    private void Emit(List<AnswerPiece> output, string text)
    {
        if (!_inReasoning && _trimNextContentStart)
        {
            text = text.TrimStart('\r', '\n');
            _trimNextContentStart = text.Length == 0;
        }

        if (text.Length > 0)
        {
            output.Add(new AnswerPiece(_inReasoning, text));
        }
    }

    /// <summary>How many characters at the end of <paramref name="text"/> could be the start of <paramref name="tag"/>.</summary>
    private static int PartialTagSuffix(string text, string tag)
    {
        for (var length = Math.Min(tag.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(tag.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }
}
