using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Credentials;
using Flowith2Api.ChatService.ServerTools;
using Flowith2Api.ChatService.Upstream;
using Flowith2Api.Gateway;
using Flowith2Api.ServiceDefaults;
using Flowith2Api.Tests.Infrastructure;
using Flowith2Api.ToolService;

namespace Flowith2Api.Tests.Operations;

/// <summary>docs/configuration.md cannot drift from the code.</summary>
public sealed partial class ConfigurationDocsTests
{
    private static readonly string Root = TestEnvironment.RepositoryRoot;

    [Fact]
    public void The_configuration_document_is_the_catalogue_rendered()
    {
        var path = Path.Combine(Root, "docs", "configuration.md");
        var rendered = SettingsCatalog.RenderMarkdown();
        if (Environment.GetEnvironmentVariable("UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, rendered);
        }

        Assert.True(File.Exists(path), "docs/configuration.md exists (run the tests with UPDATE_DOCS=1 to write it)");
        Assert.Equal(rendered.ReplaceLineEndings("\n"), File.ReadAllText(path).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Every_setting_the_code_reads_is_documented_and_every_documented_one_is_read()
    {
        var documented = SettingsCatalog.Everything.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(documented.Count, SettingsCatalog.Everything.Count()); // no name twice

        var sources = Directory.GetFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.EndsWith("SettingsCatalog.cs", StringComparison.Ordinal))
            .Select(File.ReadAllText)
            .ToList();
        var seedNames = typeof(SeedSettings).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!).ToList();
        var literals = sources.SelectMany(text => SettingName().Matches(text).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);

        var read = literals.Concat(seedNames).Where(name => !NotSettings.Contains(name)).ToHashSet(StringComparer.Ordinal);
        var undocumented = read.Where(name => !documented.Contains(name)).Order().ToList();
        Assert.True(undocumented.Count == 0, "read in src/ but not in SettingsCatalog: " + string.Join(", ", undocumented));

        // The other way round: every plain variable in the catalogue is read somewhere in src/.
        var plain = documented.Where(n => SettingName().IsMatch($"\"{n}\"")).ToList();
        var unread = plain.Where(name => !read.Contains(name) && !ShutdownNames.Contains(name)).Order().ToList();
        Assert.True(unread.Count == 0, "in SettingsCatalog but never read in src/: " + string.Join(", ", unread));
    }

    [Fact]
    public void Documented_defaults_are_the_options_classes_defaults()
    {
        var gateway = new GatewayOptions();
        foreach (var property in typeof(GatewayOptions).GetProperties())
        {
            var value = property.GetValue(gateway) switch
            {
                TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
                var other => Convert.ToString(other, CultureInfo.InvariantCulture),
            };
            Assert.Equal(value, Default($"{GatewayOptions.SectionName}__{property.Name}"));
        }

        var chat = new ChatOptions();
        var pool = new PoolOptions();
        var tools = new ToolOptions();
        var serverTools = new ServerToolOptions();
        var expected = new Dictionary<string, string>
        {
            [SeedSettings.UpstreamRetryMax] = Text(chat.RetryMax),
            [SeedSettings.UpstreamRetryBackoffMs] = Text(chat.RetryBackoffMs),
            [SeedSettings.SseMinContentLength] = Text(chat.MinContentLength),
            [SeedSettings.SseRetryOnEmpty] = Text(chat.RetryOnEmpty),
            [SeedSettings.NoRetryOnTimeout] = Text(chat.NoRetryOnTimeout),
            [SeedSettings.EnableThinkingInjection] = Text(chat.EnableThinkingInjection),
            [SeedSettings.EnableThinkingTags] = Text(chat.EnableThinkingTags),
            [SeedSettings.EnableClaudeApi] = Text(chat.EnableClaudeApi),
            ["STREAM_KEEPALIVE_MS"] = Text(chat.KeepAliveMs),
            ["CREDENTIAL_PROBE_INTERVAL_SECONDS"] = Text((int)pool.ProbeInterval.TotalSeconds),
            ["RATE_LIMIT_COOLDOWN_MS"] = Text((int)pool.RateLimitCooldown.TotalMilliseconds),
            ["MAX_TOOL_ROUNDS"] = Text(serverTools.MaxRounds),
            [SeedSettings.EnableMcp] = Text(serverTools.Enabled),
            ["TOOL_TIMEOUT_MS"] = Text((long)tools.CommandTimeout.TotalMilliseconds),
            ["TOOL_MAX_OUTPUT_BYTES"] = Text(tools.MaxOutputBytes),
            ["TOOL_MAX_READ_BYTES"] = Text(tools.MaxReadBytes),
            ["TOOL_MAX_WRITE_BYTES"] = Text(tools.MaxWriteBytes),
            ["OUTBOUND_MAX_BYTES"] = Text(tools.OutboundMaxBytes),
            ["IMAGE_MODEL"] = tools.ImageModel,
            [SeedSettings.FlowithBase] = FlowithOptions.DefaultOrigin,
        };
        foreach (var (name, value) in expected)
        {
            Assert.True(Default(name) == value, $"{name}: documented {Default(name)}, the options say {value}");
        }
    }

    private static readonly HashSet<string> ShutdownNames = [ShutdownDrain.DrainSecondsSetting, ShutdownDrain.DelaySecondsSetting];

    // Upper-case string literals in src/ that are not settings.
    /// <summary>
    /// Names the code knows that a user never sets: the handover's descriptor, and REDIS_URI, which the Kubernetes Secret
    /// carries (the services read ConnectionStrings__redis) and the ToolService keeps out of its environment.
    /// </summary>
    private static readonly HashSet<string> NotSettings = [SecretHandover.DescriptorVariable, "REDIS_URI"];

    private static string Default(string name) => Assert.Single(SettingsCatalog.Everything, s => s.Name == name).Default;

    private static string Text(object value) => value is bool b ? (b ? "true" : "false") : Convert.ToString(value, CultureInfo.InvariantCulture)!;

    [GeneratedRegex("\"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\"")]
    private static partial Regex SettingName();
}
