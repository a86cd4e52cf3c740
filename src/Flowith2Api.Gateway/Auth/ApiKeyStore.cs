using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.Gateway.Auth;

/// <summary>One client key as the Gateway knows it: never the key itself, only its hash.</summary>
public sealed record ApiKeyEntry(string Id, string Name, bool IsAdmin, byte[] Hash, int? RateLimitPerMinute = null);

/// <summary>
/// The client keys, held in memory as SHA-256 hashes: from <c>API_KEYS</c>/<c>ADMIN_KEY</c> at start, then the
/// AdminService's list (which the environment seeds) once it answers. A presented key is hashed, looked up by its hash
/// and confirmed with a constant-time comparison, so neither the lookup nor the comparison leaks how much of a guess
/// was right. Never a database round trip per request.
/// </summary>
public sealed class ApiKeyStore
{
    private volatile Dictionary<UInt128, ApiKeyEntry> _byHash = [];

    public ApiKeyStore(IConfiguration configuration, ILogger<ApiKeyStore> logger)
    {
        var apiKeys = SeedSettings.SplitList(configuration[SeedSettings.ApiKeys]);
        var adminKey = SeedSettings.AdminKeyOf(configuration);

        var keys = new Dictionary<UInt128, ApiKeyEntry>();
        var index = 0;
        foreach (var key in apiKeys)
        {
            Add(keys, SHA256.HashData(Encoding.UTF8.GetBytes(key)), $"api-key-{++index}", isAdmin: key == adminKey, rateLimit: null);
        }

        if (adminKey is not null)
        {
            Add(keys, SHA256.HashData(Encoding.UTF8.GetBytes(adminKey)), "admin", isAdmin: true, rateLimit: null);
        }

        _byHash = keys;
        if (keys.Count == 0)
        {
            logger.LogWarning("No client keys are configured ({ApiKeys}, {AdminKey}): every API call is refused with 401 until one is set.",
                SeedSettings.ApiKeys, SeedSettings.AdminKey);
        }
    }

    public int Count => _byHash.Count;

    public ApiKeyEntry? Find(ReadOnlySpan<char> presented)
    {
        if (presented.IsEmpty || presented.Length > 512)
        {
            return null;
        }

        Span<byte> utf8 = stackalloc byte[1536];
        var length = Encoding.UTF8.GetBytes(presented, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        return _byHash.TryGetValue(BinaryPrimitives.ReadUInt128LittleEndian(hash), out var entry)
            && CryptographicOperations.FixedTimeEquals(entry.Hash, hash)
            ? entry
            : null;
    }

    /// <summary>The key with this SHA-256 hash (a console session names its key this way).</summary>
    public ApiKeyEntry? FindByHash(byte[] hash) =>
        hash.Length == SHA256.HashSizeInBytes && _byHash.TryGetValue(BinaryPrimitives.ReadUInt128LittleEndian(hash), out var entry)
        && CryptographicOperations.FixedTimeEquals(entry.Hash, hash)
            ? entry
            : null;

    /// <summary>Replaces every key with the AdminService's list (enabled keys only).</summary>
    public void Replace(IEnumerable<InternalKey> keys)
    {
        var next = new Dictionary<UInt128, ApiKeyEntry>();
        foreach (var key in keys)
        {
            if (key.Enabled && key.Hash is { Length: 64 })
            {
                Add(next, Convert.FromHexString(key.Hash), key.Name ?? "", key.IsAdmin, key.RateLimitPerMinute);
            }
        }

        _byHash = next;
    }

    private static void Add(Dictionary<UInt128, ApiKeyEntry> keys, byte[] hash, string name, bool isAdmin, int? rateLimit)
    {
        var slot = BinaryPrimitives.ReadUInt128LittleEndian(hash);
        if (keys.TryGetValue(slot, out var existing))
        {
            if (isAdmin && !existing.IsAdmin)
            {
                keys[slot] = existing with { IsAdmin = true };
            }

            return;
        }

        keys[slot] = new ApiKeyEntry("key_" + Convert.ToHexStringLower(hash.AsSpan(0, 8)), name, isAdmin, hash, rateLimit);
    }
}
