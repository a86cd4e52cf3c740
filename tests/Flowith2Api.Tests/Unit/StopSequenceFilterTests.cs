using Flowith2Api.ChatService.Conversation;

namespace Flowith2Api.Tests.Unit;

public sealed class StopSequenceFilterTests
{
    [Theory]
    [InlineData("Hello END world", "Hello ")]
    [InlineData("Hel|lo E|ND world", "Hello ")]
    [InlineData("Hello E|N|D", "Hello ")]
    [InlineData("no stop here", "no stop here")]
    [InlineData("ends with E|N", "ends with EN")]
    [InlineData("first STOP then END", "first ")]
    public void The_answer_ends_right_before_the_first_stop_sequence(string pieces, string expected)
    {
        var filter = new StopSequenceFilter(["END", "STOP"]);
        var output = string.Concat(pieces.Split('|').Select(filter.Push)) + filter.Flush();
        Assert.Equal(expected, output);
        Assert.Equal(expected.Length < pieces.Replace("|", "", StringComparison.Ordinal).Length, filter.Stopped);
    }

    [Fact]
    public void Without_stop_sequences_pieces_pass_through_untouched()
    {
        var filter = new StopSequenceFilter([]);
        Assert.Equal("E", filter.Push("E"));
        Assert.Equal("", filter.Flush());
    }
}
