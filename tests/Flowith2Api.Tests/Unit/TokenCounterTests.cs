using System.Diagnostics;
using Flowith2Api.ChatService.Conversation;

namespace Flowith2Api.Tests.Unit;

public sealed class TokenCounterTests
{
    private static readonly TokenCounter Counter = new();

    [Fact]
    public void Long_ordinary_text_counts_the_same_in_slices_as_in_one_piece()
    {
        var whole = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding("o200k_base");
        var text = string.Concat(Enumerable.Range(0, 600).Select(i => $"The quick brown fox number {i} jumps over the lazy dog.\n"));
        Assert.True(text.Length > 20_000); // many slices

        Assert.Equal(whole.CountTokens(text), Counter.CountText(text));
    }

    [Fact]
    public void A_huge_run_of_one_letter_is_counted_in_linear_time()
    {
        Counter.CountText("warm up");
        var clock = Stopwatch.StartNew();
        var tokens = Counter.CountText(new string('a', 400_000)); // byte-pair merging of one 400,000-letter word took ~25 s
        Assert.InRange(tokens, 40_000, 60_000);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }
}
