using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Flowith2Api.ChatService.Credentials;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Models;

/// <summary>A public model name and the upstream id it maps to (null: the upstream's default model).</summary>
public sealed record ModelEntry(string Id, string? UpstreamId, bool Reasoning = false);

/// <summary>The configured catalogue: built-in names, <c>MODELS</c> additions and <c>MODEL_ALIASES</c> patterns.</summary>
public sealed class ModelCatalogOptions
{
    public Dictionary<string, ModelEntry> Models { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<(Regex Pattern, string Target, string Source)> Aliases { get; } = [];

    public TimeSpan UpstreamListTtl { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan UpstreamListRetry { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The names most clients know, mapped onto Flowith's ids.</summary>
    public static IReadOnlyList<ModelEntry> BuiltIn { get; } =
    [
        new("flowith", null),
        new("gpt-4.1", "gpt-4.1"),
        new("gpt-4.1-mini", "gpt-4.1-mini"),
        new("gpt-4o", "gpt-4o"),
        new("gpt-4o-mini", "gpt-4o-mini"),
        new("o4-mini", "o4-mini", Reasoning: true),
        new("claude-sonnet-4", "claude-4-sonnet"),
        new("claude-3.7-sonnet", "claude-3.7-sonnet"),
        new("gemini-2.5-pro", "gemini-2.5-pro"),
        new("gemini-2.5-flash", "gemini-2.5-flash"),
        new("deepseek-chat", "deepseek-chat"),
        new("deepseek-r1", "deepseek-reasoner", Reasoning: true),
    ];

    /// <summary>
    /// <c>MODELS</c>: <c>public=upstream</c> pairs (or bare ids) added to the built-in names;
    /// <c>MODEL_ALIASES</c>: <c>pattern=target</c> pairs, <c>*</c> matching anything (<c>claude-*=claude-sonnet-4</c>).
    /// </summary>
    public static void Bind(ModelCatalogOptions options, IConfiguration configuration)
    {
        foreach (var entry in BuiltIn)
        {
            options.Models[entry.Id] = entry;
        }

        foreach (var pair in SeedSettings.SplitList(configuration["MODELS"]))
        {
            var (name, upstream) = SplitPair(pair);
            options.Models[name] = new ModelEntry(name, string.IsNullOrEmpty(upstream) ? name : upstream);
        }

        foreach (var pair in SeedSettings.SplitList(configuration[SeedSettings.ModelAliases]))
        {
            var (pattern, target) = SplitPair(pair);
            if (string.IsNullOrEmpty(target))
            {
                throw new OptionsValidationException(nameof(ModelCatalogOptions), typeof(ModelCatalogOptions),
                    [$"{SeedSettings.ModelAliases} entry '{pair}' needs the form pattern=model."]);
            }

            var regex = new Regex("^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal) + "$",
                RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
            options.Aliases.Add((regex, target, pattern));
        }
    }

    private static (string Name, string? Value) SplitPair(string pair)
    {
        var index = pair.IndexOf('=', StringComparison.Ordinal);
        return index < 0 ? (pair.Trim(), null) : (pair[..index].Trim(), pair[(index + 1)..].Trim());
    }
}

/// <summary>
/// Resolves the model a client names: configured names first (no upstream call on the hot path), then the alias
/// patterns, then the upstream's own model list (cached). Unknown names resolve to null (a 404 for the client).
/// </summary>
public sealed partial class ModelCatalog(IOptions<ModelCatalogOptions> options, FlowithClient flowith, ICredentialPool pool,
    TimeProvider time, ILogger<ModelCatalog> logger) : IDisposable
{
    private readonly FrozenDictionary<string, ModelEntry> _configured = options.Value.Models.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private IReadOnlyList<string> _upstream = [];
    private DateTimeOffset _upstreamExpires = DateTimeOffset.MinValue;

    public async Task<ModelEntry?> ResolveAsync(string name, CancellationToken cancellationToken)
    {
        if (_configured.TryGetValue(name, out var entry))
        {
            return entry;
        }

        foreach (var (pattern, target, _) in options.Value.Aliases)
        {
            if (pattern.IsMatch(name))
            {
                return _configured.TryGetValue(target, out var aliased)
                    ? aliased with { Id = name }
                    : new ModelEntry(name, target);
            }
        }

        var upstream = await UpstreamModelsAsync(cancellationToken);
        var match = upstream.FirstOrDefault(id => string.Equals(id, name, StringComparison.OrdinalIgnoreCase));
        return match is null ? null : new ModelEntry(match, match);
    }

    /// <summary>Every configured name plus the upstream's ids that no configured name maps to.</summary>
    public async Task<IReadOnlyList<ModelEntry>> ListAsync(CancellationToken cancellationToken)
    {
        var upstream = await UpstreamModelsAsync(cancellationToken);
        var mapped = new HashSet<string>(_configured.Values.Select(e => e.UpstreamId ?? ""), StringComparer.OrdinalIgnoreCase);
        return [.. options.Value.Models.Values, .. upstream.Where(id => !mapped.Contains(id) && !_configured.ContainsKey(id)).Select(id => new ModelEntry(id, id))];
    }

    private async Task<IReadOnlyList<string>> UpstreamModelsAsync(CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() < _upstreamExpires)
        {
            return _upstream;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (time.GetUtcNow() < _upstreamExpires)
            {
                return _upstream;
            }

            var lease = await pool.NextAsync();
            if (lease is null)
            {
                _upstreamExpires = time.GetUtcNow() + options.Value.UpstreamListRetry;
                return _upstream;
            }

            try
            {
                _upstream = await flowith.ListModelsAsync(lease.Credential.Value, cancellationToken);
                _upstreamExpires = time.GetUtcNow() + options.Value.UpstreamListTtl;
            }
            catch (UpstreamException e)
            {
                LogModelListFailed(logger, e.Message);
                _upstreamExpires = time.GetUtcNow() + options.Value.UpstreamListRetry;
            }

            return _upstream;
        }
        finally
        {
            _refresh.Release();
        }
    }

    public void Dispose() => _refresh.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The upstream model list could not be read; serving the configured catalogue: {Message}")]
    private static partial void LogModelListFailed(ILogger logger, string message);
}
