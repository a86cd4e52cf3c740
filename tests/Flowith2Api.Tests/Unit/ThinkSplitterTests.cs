using Flowith2Api.ChatService.Conversation;

namespace Flowith2Api.Tests.Unit;

public sealed class ThinkSplitterTests
{
    private static (string Reasoning, string Content, int Pieces) Run(bool enabled, params string[] pieces)
    {
        var splitter = new ThinkSplitter(enabled);
        var reasoning = "";
        var content = "";
        var count = 0;
        var pushed = pieces.SelectMany(splitter.Push).ToList();
        foreach (var piece in pushed.Concat(splitter.Flush()))
        {
            Assert.NotEqual("", piece.Text);
            if (piece.IsReasoning)
            {
                reasoning += piece.Text;
            }
            else
            {
                content += piece.Text;
            }

            count++;
        }

        return (reasoning, content, count);
    }

    [Theory]
    [InlineData("<think>why</think>\n\nAnswer")]
    [InlineData("<thi|nk>why</thi|nk>\n\nAnswer")]
    [InlineData("<|t|h|i|n|k|>|w|h|y|<|/|t|h|i|n|k|>|\n|\n|A|nswer")]
    [InlineData("<think>|why|</think>|\n\n|Answer")]
    public void Tags_split_anywhere_give_the_same_reasoning_and_content(string pieces)
    {
        var (reasoning, content, _) = Run(true, pieces.Split('|'));
        Assert.Equal("why", reasoning);
        Assert.Equal("Answer", content);
    }

    [Fact]
    public void Text_that_only_looks_like_the_start_of_a_tag_is_content()
    {
        var (reasoning, content, _) = Run(true, "a <b> and <thin", "g> and 3 < 4 <");
        Assert.Equal("", reasoning);
        Assert.Equal("a <b> and <thing> and 3 < 4 <", content);
    }

    [Fact]
    public void An_unclosed_think_block_is_all_reasoning()
    {
        var (reasoning, content, _) = Run(true, "<think>still thinking", " when it ended");
        Assert.Equal("still thinking when it ended", reasoning);
        Assert.Equal("", content);
    }

    [Fact]
    public void Content_before_and_after_a_think_block_is_kept()
    {
        var (reasoning, content, _) = Run(true, "Intro. <think>hmm</think>Outro.");
        Assert.Equal("hmm", reasoning);
        Assert.Equal("Intro. Outro.", content);
    }

    [Fact]
    public void Pieces_without_tags_pass_through_as_they_come()
    {
        var (_, content, count) = Run(true, "one ", "two ", "three");
        Assert.Equal("one two three", content);
        Assert.Equal(3, count);
    }

    [Fact]
    public void With_thinking_tags_off_everything_is_content()
    {
        var (reasoning, content, _) = Run(false, "<think>why</think>Answer");
        Assert.Equal("", reasoning);
        Assert.Equal("<think>why</think>Answer", content);
    }
}
