using Microsoft.Extensions.Configuration;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// Admin overrides as the last configuration source: set them and every <c>IOptionsMonitor</c> bound to the
/// configuration sees the new values at once.
/// </summary>
public sealed class RuntimeOverrides : ConfigurationProvider, IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>Replaces every override (environment names → values) and signals a reload when anything changed.</summary>
    public void Apply(IReadOnlyDictionary<string, string> overrides)
    {
        var next = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in overrides)
        {
            next[key] = value;
        }

        if (next.Count == Data.Count && next.All(kv => Data.TryGetValue(kv.Key, out var old) && old == kv.Value))
        {
            return;
        }

        Data = next;
        OnReload();
    }

    public IReadOnlyDictionary<string, string?> Current => new Dictionary<string, string?>(Data, StringComparer.OrdinalIgnoreCase);
}
