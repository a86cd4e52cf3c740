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

    public int CountText(string? text) => string.IsNullOrEmpty(text) ? 0 : _tokenizer.Value.CountTokens(text);

    public int CountPrompt(IReadOnlyList<ConversationMessage> messages)
    {
        var total = ReplyPriming;
        foreach (var message in messages)
        {
            total += PerMessageOverhead + 1 + CountText(message.Text);
        }

        return total;
    }
}
