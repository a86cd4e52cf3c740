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

        // Markdown: paragraphs, blank lines, lists, code, punctuation before line ends.
        var markdown = string.Concat(Enumerable.Range(0, 300).Select(i =>
            $"## Section {i}\n\nSome text, with punctuation: done.\n\n- item {i}; more\n- `code({i})`\n\n```\nx = {i}\n```\n"));
        Assert.True(markdown.Length > 20_000);
        Assert.Equal(whole.CountTokens(markdown), Counter.CountText(markdown));

        // No spaces at all (CJK, base64): hard cuts, at most a token off per slice.
        var cjk = string.Concat(Enumerable.Repeat("这是一个没有空格的很长的句子。", 800));
        Assert.InRange(Counter.CountText(cjk), whole.CountTokens(cjk) - cjk.Length / 2048 - 1, whole.CountTokens(cjk) + cjk.Length / 2048 + 1);
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
