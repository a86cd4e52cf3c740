namespace Flowith2Api.ChatService.Conversation;

/// <summary>
/// Enforces the client's stop sequences (the upstream has none): the answer ends right before the first one. While
/// streaming, a tail that may be the start of a stop sequence is held back until the next piece decides.
/// </summary>
public sealed class StopSequenceFilter(IReadOnlyList<string> stops)
{
    private readonly string[] _stops = [.. stops.Where(s => s.Length > 0)];
    private string _pending = "";

    public bool Stopped => Matched is not null;

    /// <summary>The stop sequence that ended the answer, or null.</summary>
    public string? Matched { get; private set; }

    /// <summary>Feeds content; returns what may be sent now ("" when nothing may yet).</summary>
    public string Push(string text)
    {
        if (Stopped)
        {
            return "";
        }

        if (_stops.Length == 0)
        {
            return text;
        }

        text = _pending + text;
        _pending = "";
        var (cut, stop) = FirstStop(text);
        if (stop is not null)
        {
            Matched = stop;
            return text[..cut];
        }

        var hold = LongestPartialStop(text);
        _pending = text[^hold..];
        return text[..^hold];
    }

    /// <summary>The end of the answer: a held-back tail that never became a stop sequence is content after all.</summary>
    public string Flush()
    {
        var rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }

    public static string Truncate(string text, IReadOnlyList<string> stops)
    {
        var filter = new StopSequenceFilter(stops);
        return filter.Push(text) + filter.Flush();
    }

    private (int Index, string? Stop) FirstStop(string text)
    {
        (int Index, string? Stop) first = (-1, null);
        foreach (var stop in _stops)
        {
            var index = text.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && (first.Stop is null || index < first.Index))
            {
                first = (index, stop);
            }
        }

        return first;
    }

    private int LongestPartialStop(string text)
    {
        var longest = 0;
        foreach (var stop in _stops)
        {
            for (var length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
            }
        }

        return longest;
    }
}
