using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.Gateway.Auth;

/// <summary>One client key as the Gateway knows it: never the key itself, only its hash.</summary>
public sealed record ApiKeyEntry(string Id, string Name, bool IsAdmin, byte[] Hash);

/// <summary>
/// The client keys, held in memory as SHA-256 hashes (from <c>API_KEYS</c> and <c>ADMIN_KEY</c> for now). A
/// presented key is hashed, looked up by its hash and confirmed with a constant-time comparison, so neither the
/// lookup nor the comparison leaks how much of a guess was right.
/// </summary>
public sealed class ApiKeyStore
{
    private readonly Dictionary<UInt128, ApiKeyEntry> _byHash = [];

    public ApiKeyStore(IConfiguration configuration, ILogger<ApiKeyStore> logger)
    {
        var apiKeys = SeedSettings.SplitList(configuration[SeedSettings.ApiKeys]);
        var adminKey = configuration[SeedSettings.AdminKey]?.Trim();
        if (string.IsNullOrEmpty(adminKey))
        {
            adminKey = apiKeys.Count > 0 ? apiKeys[0] : null;
        }

        var index = 0;
        foreach (var key in apiKeys)
        {
            Add(key, $"api-key-{++index}", isAdmin: key == adminKey);
        }

        if (adminKey is not null)
        {
            Add(adminKey, "admin", isAdmin: true);
        }

        if (_byHash.Count == 0)
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

    private void Add(string key, string name, bool isAdmin)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        var slot = BinaryPrimitives.ReadUInt128LittleEndian(hash);
        if (_byHash.TryGetValue(slot, out var existing))
        {
            if (isAdmin && !existing.IsAdmin)
            {
                _byHash[slot] = existing with { IsAdmin = true };
            }

            return;
        }

        var id = "key_" + Convert.ToHexStringLower(hash.AsSpan(0, 8));
        _byHash[slot] = new ApiKeyEntry(id, name, isAdmin, hash);
    }
}
