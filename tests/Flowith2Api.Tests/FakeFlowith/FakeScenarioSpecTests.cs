using Flowith2Api.FakeFlowith;

namespace Flowith2Api.Tests.FakeFlowith;

public sealed class FakeScenarioSpecTests
{
    [Fact]
    public void Parse_reads_every_key_with_url_encoded_values()
    {
        var s = FakeScenario.Parse(
            "text=Hello%20world%3B%20%F0%9F%98%80;chunk=3;delay=20;latency=50;doc-style=true;terminator=bare;" +
            "searching=true;think=Let%20me%20think;status=429;retry-after=2;stall-before-headers=5000;" +
            "stall-after=1;stall=3000;empty=true;empty-body=true;reset-after=2;crlf=true;split=true;" +
            "keepalive=true;field=answer;ratelimit=12");

        Assert.Equal("Hello world; 😀", s.Text);
        Assert.Equal(3, s.ChunkSize);
        Assert.Equal(20, s.ChunkDelayMs);
        Assert.Equal(50, s.LatencyMs);
        Assert.True(s.DocStyle);
        Assert.Equal(FakeTerminator.Bare, s.Terminator);
        Assert.True(s.Searching);
        Assert.Equal("Let me think", s.Think);
        Assert.Equal(429, s.Status);
        Assert.Equal(2, s.RetryAfterSeconds);
        Assert.Equal(5000, s.StallBeforeHeadersMs);
        Assert.Equal(1, s.StallAfterChunks);
        Assert.Equal(3000, s.StallMs);
        Assert.True(s.Empty);
        Assert.True(s.EmptyBody);
        Assert.Equal(2, s.ResetAfterChunks);
        Assert.True(s.Crlf);
        Assert.True(s.SplitWrites);
        Assert.True(s.KeepAliveLines);
        Assert.Equal("answer", s.NonStreamField);
        Assert.Equal(12, s.RateLimitPerMinute);
    }

    [Fact]
    public void An_empty_spec_is_the_default_scenario_and_the_default_has_an_empty_spec()
    {
        Assert.Equal(FakeScenario.Default, FakeScenario.Parse(""));
        Assert.Equal(FakeScenario.Default, FakeScenario.Parse(" ; ;"));
        Assert.Equal("", FakeScenario.Default.ToSpec());
        Assert.Equal(8, FakeScenario.Default.ChunkSize);
        Assert.Equal(FakeTerminator.Final, FakeScenario.Default.Terminator);
        Assert.Equal(FakeScenario.Forever, FakeScenario.Default.StallMs);
    }

    [Theory]
    [InlineData("status=429;retry-after=2")]
    [InlineData("text=Hello%20world;chunk=3;delay=20")]
    [InlineData("stall-before-headers=forever")]
    [InlineData("terminator=eof;think=Let%20me%20think")]
    [InlineData("doc-style=true;empty=true;empty-body=true")]
    [InlineData("reset-after=2;crlf=true;split=true;keepalive=true")]
    [InlineData("latency=50;searching=true;field=text;ratelimit=12")]
    [InlineData("stall-after=1;stall=3000")]
    [InlineData("status=429;retry-after=none")]
    [InlineData("text=a%3Bb%3Dc%25d%20%E4%BD%A0%E5%A5%BD")]
    public void ToSpec_round_trips_through_Parse(string spec)
    {
        var scenario = FakeScenario.Parse(spec);

        Assert.Equal(spec, scenario.ToSpec());
        Assert.Equal(scenario, FakeScenario.Parse(scenario.ToSpec()));
    }

    [Fact]
    public void A_scenario_built_in_code_round_trips_through_its_spec()
    {
        var scenario = new FakeScenario
        {
            Text = "multi\nline \"quoted\" ; = % 😀",
            Think = "",
            ChunkSize = 1,
            Terminator = FakeTerminator.Eof,
            StallBeforeHeadersMs = FakeScenario.Forever,
            RetryAfterSeconds = null,
            Status = 200,
            NonStreamField = "message",
        };

        Assert.Equal(scenario, FakeScenario.Parse(scenario.ToSpec()));
    }

    [Fact]
    public void A_boolean_key_without_a_value_means_true_and_keys_ignore_case()
    {
        var scenario = FakeScenario.Parse("DOC-STYLE; Searching ;terminator=EOF");

        Assert.True(scenario.DocStyle);
        Assert.True(scenario.Searching);
        Assert.Equal(FakeTerminator.Eof, scenario.Terminator);
    }

    [Fact]
    public void Parse_rejects_an_unknown_key_naming_it()
    {
        var ex = Assert.Throws<FormatException>(() => FakeScenario.Parse("chunk=2;colour=blue"));

        Assert.Contains("colour", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Known keys", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("chunk=0")]
    [InlineData("chunk=x")]
    [InlineData("delay=-5")]
    [InlineData("status=99")]
    [InlineData("status=600")]
    [InlineData("terminator=maybe")]
    [InlineData("doc-style=perhaps")]
    [InlineData("field=body")]
    [InlineData("ratelimit=0")]
    [InlineData("retry-after=soon")]
    [InlineData("stall=-2")]
    [InlineData("chunk=2;chunk=3")]
    public void Parse_rejects_bad_values_and_repeated_keys_with_a_FormatException(string spec)
    {
        var ex = Assert.Throws<FormatException>(() => FakeScenario.Parse(spec));

        Assert.Contains(spec.Split('=')[0], ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_reports_the_error_instead_of_throwing()
    {
        Assert.False(FakeScenario.TryParse("nope=1", out _, out var error));
        Assert.Contains("nope", error, StringComparison.Ordinal);
        Assert.True(FakeScenario.TryParse(null, out var scenario, out _));
        Assert.Equal(FakeScenario.Default, scenario);
    }
}

public sealed class FakeScenarioJsonTests
{
    [Fact]
    public void A_json_object_with_property_names_or_spec_keys_becomes_a_scenario()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(
            "{\"status\":429,\"retryAfterSeconds\":null,\"text\":\"a;b\",\"doc-style\":true,\"terminator\":\"bare\",\"chunkSize\":2}");

        var scenario = FakeScenarioJson.FromJson(doc.RootElement);

        Assert.Equal(new FakeScenario
        {
            Status = 429,
            RetryAfterSeconds = null,
            Text = "a;b",
            DocStyle = true,
            Terminator = FakeTerminator.Bare,
            ChunkSize = 2,
        }, scenario);
    }

    [Fact]
    public void A_json_object_with_an_unknown_name_or_bad_value_is_rejected()
    {
        using var unknown = System.Text.Json.JsonDocument.Parse("{\"colour\":\"blue\"}");
        using var bad = System.Text.Json.JsonDocument.Parse("{\"chunkSize\":0}");

        Assert.Throws<FormatException>(() => FakeScenarioJson.FromJson(unknown.RootElement));
        Assert.Throws<FormatException>(() => FakeScenarioJson.FromJson(bad.RootElement));
    }
}
