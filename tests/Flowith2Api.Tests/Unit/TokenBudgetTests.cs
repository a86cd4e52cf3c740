using Flowith2Api.ChatService.Conversation;

namespace Flowith2Api.Tests.Unit;

public sealed class TokenBudgetTests
{
    private static readonly TokenCounter Tokens = new();

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(20)]
    [InlineData(64)]
    public void Pieces_are_cut_where_the_budget_ends_and_what_is_kept_counts_exactly_the_budget(int max)
    {
        var budget = new TokenBudget(Tokens, max);
        var kept = new System.Text.StringBuilder();
        foreach (var piece in Enumerable.Range(0, 400).Select(i => i % 3 == 0 ? $"tok{i} " : $"é{i}, "))
        {
            kept.Append(budget.Take(piece));
        }

        Assert.True(budget.Exhausted);
        Assert.Equal(kept.ToString(), budget.Output);
        Assert.Equal(max, Tokens.CountText(budget.Output));
    }

    [Fact]
    public void Under_the_budget_everything_is_taken()
    {
        var budget = new TokenBudget(Tokens, 1000);
        Assert.Equal("Hello there. ", budget.Take("Hello there. "));
        Assert.True(budget.TakeWhole("get_weather{\"city\":\"Paris\"}"));
        Assert.False(budget.Exhausted);
        Assert.Equal("Hello there. get_weather{\"city\":\"Paris\"}", budget.Output);
    }

    [Fact]
    public void A_tool_call_that_does_not_fit_is_not_taken_and_ends_the_budget()
    {
        var budget = new TokenBudget(Tokens, 5);
        budget.Take("one two three ");
        Assert.False(budget.TakeWhole("a_long_tool_name{\"argument\":\"a long value that cannot fit\"}"));
        Assert.True(budget.Exhausted);
        Assert.Equal("", budget.Take("more"));
    }

    [Fact]
    public void Without_a_limit_nothing_is_counted_or_cut()
    {
        var budget = TokenBudget.Unlimited();
        Assert.Equal(new string('x', 100_000), budget.Take(new string('x', 100_000)));
        Assert.False(budget.Exhausted);
    }
}
