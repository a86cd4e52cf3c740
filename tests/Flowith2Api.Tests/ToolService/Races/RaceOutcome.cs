namespace Flowith2Api.Tests.ToolService.Races;

/// <summary>What the attempts of one race came to.</summary>
internal sealed class RaceOutcome
{
    public int Attempts { get; private set; }
    public int Succeeded { get; private set; }
    public int Refused { get; private set; }
    public int Escapes { get; private set; }
    public string? FirstEscape { get; private set; }
    public string? FirstRefusal { get; private set; }
    public long Flips { get; set; }
    public TimeSpan Elapsed { get; set; }

    public void Record(bool isError, string text, string? escape)
    {
        Attempts++;
        if (isError)
        {
            Refused++;
            FirstRefusal ??= text;
        }
        else
        {
            Succeeded++;
        }

        if (escape is not null)
        {
            Escapes++;
            FirstEscape ??= escape;
        }
    }

    public void Add(RaceOutcome other)
    {
        Attempts += other.Attempts;
        Succeeded += other.Succeeded;
        Refused += other.Refused;
        Escapes += other.Escapes;
        FirstEscape ??= other.FirstEscape;
        FirstRefusal ??= other.FirstRefusal;
        Flips += other.Flips;
        Elapsed += other.Elapsed;
    }

    /// <summary>No escape in either shape, each raced for real (the path flipped), and the tool both succeeded and was refused.</summary>
    public static void AssertNoEscape(string tool, RaceOutcome leaf, RaceOutcome middle, long minFlips)
    {
        foreach (var (shape, outcome) in new[] { ("leaf", leaf), ("middle directory", middle) })
        {
            Assert.True(outcome.Escapes == 0,
                $"{tool} ({shape}): {outcome.Escapes} escapes in {outcome.Attempts} attempts, for example: {outcome.FirstEscape}");
            Assert.True(outcome.Flips >= minFlips, $"{tool} ({shape}): the path flipped only {outcome.Flips} times");
        }

        Assert.True(leaf.Succeeded + middle.Succeeded > 0 && leaf.Refused + middle.Refused > 0,
            $"{tool}: {leaf.Succeeded + middle.Succeeded} succeeded and {leaf.Refused + middle.Refused} were refused; a race needs both "
            + $"(refused for example with: {leaf.FirstRefusal} / {middle.FirstRefusal})");
    }
}
