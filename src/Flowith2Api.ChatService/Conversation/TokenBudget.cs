using System.Text;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>
/// A turn's output token budget (<c>max_tokens</c> and its twins), which the upstream does not keep: everything the
/// model generates (reasoning, text, tool calls, in every tool round) is counted as it arrives, and the answer is cut
/// where the budget ends. What was kept is also what the output tokens are counted from, so usage agrees with the cut.
/// </summary>
public sealed class TokenBudget(TokenCounter? tokens, int? maxTokens)
{
    /// <summary>No budget: everything is taken (and kept for counting).</summary>
    public static TokenBudget Unlimited() => new(null, null);

    private TokenCounter Tokens => tokens ?? throw new InvalidOperationException("A budget with a limit needs a token counter.");

    /// <summary>Tokens before the budget at which counting switches from piece by piece to the whole output.</summary>
    private const int Margin = 16;

    private readonly StringBuilder _output = new();

    /// <summary>
    /// At least the tokens of <see cref="Output"/>: its UTF-8 bytes since the last exact count (a token is at least one
    /// byte), so nothing is counted while the budget is far, and the exact count only runs near its end.
    /// </summary>
    private int _estimate;

    /// <summary>The budget is used up: nothing more is taken, and reading the upstream can stop.</summary>
    public bool Exhausted { get; private set; }

    /// <summary>What the model generated and the answer kept, in order, for counting the output tokens.</summary>
    public string Output => _output.ToString();

    /// <summary>
    /// Takes <paramref name="text"/> without counting it when there is no budget, or when its UTF-8 bytes (which bound
    /// its tokens) still fit with room to spare; false: it must be counted exactly (or the budget is spent).
    /// </summary>
    private bool TakenUncounted(string text)
    {
        if (maxTokens is { } max)
        {
            var bound = Encoding.UTF8.GetByteCount(text);
            if (Exhausted || _estimate + bound + Margin > max)
            {
                return false;
            }

            _estimate += bound;
        }

        _output.Append(text);
        return true;
    }

    /// <summary>The part of <paramref name="piece"/> that fits (all of it, a prefix, or nothing).</summary>
    public string Take(string piece)
    {
        if (piece.Length == 0 || TakenUncounted(piece))
        {
            return piece;
        }

        if (Exhausted)
        {
            return "";
        }

        var max = maxTokens!.Value;

        // Near the end: count the whole output exactly (pieces do not add up exactly across their boundaries).
        var before = _output.Length;
        _output.Append(piece);
        var whole = _output.ToString();
        var exact = Tokens.CountText(whole);
        if (exact < max)
        {
            _estimate = exact;
            return piece;
        }

        Exhausted = true;
        if (exact == max)
        {
            return piece;
        }

        var kept = Tokens.FittingLength(whole, before, max);
        _output.Length = kept;
        return piece[..(kept - before)];
    }

    /// <summary>Whether a whole item (a tool call: its name and arguments) fits; it is taken all or not at all.</summary>
    public bool TakeWhole(string item)
    {
        if (TakenUncounted(item))
        {
            return true;
        }

        if (Exhausted)
        {
            return false;
        }

        var max = maxTokens!.Value;

        var before = _output.Length;
        _output.Append(item);
        var exact = Tokens.CountText(_output.ToString());
        if (exact <= max)
        {
            _estimate = exact;
            Exhausted = exact == max;
            return true;
        }

        _output.Length = before;
        Exhausted = true;
        return false;
    }
}
