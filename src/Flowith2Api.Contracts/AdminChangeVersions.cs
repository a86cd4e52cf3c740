namespace Flowith2Api.Contracts;

/// <summary>The AdminService's change counters per kind of state (embedded mode's stand-in for the Redis announcements).</summary>
public sealed record AdminChangeVersions(
    [property: System.Text.Json.Serialization.JsonPropertyName("epoch")] string Epoch,
    [property: System.Text.Json.Serialization.JsonPropertyName("versions")] Dictionary<string, long> Versions)
{
    public const string Path = "/internal/changes";

    /// <summary>The kinds whose counter moved since <paramref name="before"/> (of the same epoch).</summary>
    public IEnumerable<string> Moved(AdminChangeVersions before) =>
        Versions.Where(v => before.Versions.GetValueOrDefault(v.Key) != v.Value).Select(v => v.Key);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(AdminChangeVersions))]
public sealed partial class AdminChangeVersionsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
