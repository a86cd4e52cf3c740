using Microsoft.ML.Tokenizers;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>
/// Counts tokens with the o200k_base tokenizer when the upstream reports none (it never does). The per-message
/// overhead follows OpenAI's chat format accounting: 3 tokens a message plus 3 to prime the reply.
/// </summary>
public sealed class TokenCounter
{
    private const int PerMessageOverhead = 3;
    private const int ReplyPriming = 3;

    private readonly Lazy<Tokenizer> _tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>Longest piece counted at once: byte-pair merging is quadratic in the length of one unbroken run.</summary>
    private const int Slice = 2048;

    /// <summary>
    /// Tokens in a text. Long texts are counted in slices cut before a word (so space-separated text counts the same),
    /// which keeps a 400,000-character run of one letter — a few milliseconds instead of half a minute of
    /// merging — from stalling the request (found by the fuzz suite).
    /// </summary>
    public int CountText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        if (text.Length <= Slice)
        {
            return _tokenizer.Value.CountTokens(text);
        }

        var total = 0;
        var span = text.AsSpan();
        while (span.Length > 0)
        {
            var length = Math.Min(Slice, span.Length);
            if (length < span.Length)
            {
                // Cut just before a space that follows a letter or digit: " word" is a piece of its own in o200k, so the
                // counts add up exactly; without one (no spaces, e.g. base64 or CJK) the cut is hard and may cost a token.
                for (var at = length - 1; at > length - 256; at--)
                {
                    if (span[at] == ' ' && char.IsLetterOrDigit(span[at - 1]))
                    {
                        length = at;
                        break;
                    }
                }

                if (char.IsHighSurrogate(span[length - 1]))
                {
                    length--; // never split a surrogate pair
                }
            }

            total += _tokenizer.Value.CountTokens(span[..length]);
            span = span[length..];
        }

        return total;
    }

    /// <summary>
    /// The length of the longest prefix of <paramref name="text"/>, at least <paramref name="from"/> characters long, that
    /// counts at most <paramref name="maxTokens"/> tokens (as <see cref="CountText"/> counts it; never cutting a
    /// surrogate pair); <paramref name="from"/> when nothing more fits.
    /// </summary>
    public int FittingLength(string text, int from, int maxTokens)
    {
        int low = from, high = text.Length;
        while (low < high)
        {
            var middle = low + ((high - low + 1) / 2);
            if (middle < text.Length && char.IsLowSurrogate(text[middle]))
            {
                middle--;
            }

            if (middle <= low)
            {
                // Only a surrogate pair is left to decide: it fits whole or not at all.
                var pair = Math.Min(text.Length, low + 2);
                return CountText(text[..pair]) <= maxTokens ? pair : low;
            }

            if (CountText(text[..middle]) <= maxTokens)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }

    /// <summary>The prompt's tokens, counted on what the upstream is sent.</summary>
    public int CountPrompt(ConversationRequest request)
    {
        var total = ReplyPriming;
        foreach (var (_, text) in Upstream.Seek.SeekPrompt.Messages(request))
        {
            total += PerMessageOverhead + 1 + CountText(text);
        }

        return total;
    }
}
