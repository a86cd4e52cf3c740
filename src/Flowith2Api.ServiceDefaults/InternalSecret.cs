using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Flowith2Api.ServiceDefaults;

/// <summary>The shared internal secret, compared in constant time.</summary>
public sealed class InternalSecret
{
    private readonly byte[]? _hash;

    public InternalSecret(IConfiguration configuration)
    {
        Value = configuration[SeedSettings.InternalSecret];
        if (!string.IsNullOrEmpty(Value))
        {
            _hash = SHA256.HashData(Encoding.UTF8.GetBytes(Value));
        }
    }

    /// <summary>The secret itself, for the Gateway to attach to forwarded requests; null when not configured.</summary>
    public string? Value { get; }

    public bool IsConfigured => _hash is not null;

    public bool Matches(string? candidate)
    {
        if (_hash is null || string.IsNullOrEmpty(candidate))
        {
            return false;
        }

        Span<byte> candidateHash = stackalloc byte[SHA256.HashSizeInBytes];
        var maxBytes = Encoding.UTF8.GetMaxByteCount(candidate.Length);
        var buffer = maxBytes <= 512 ? stackalloc byte[512] : new byte[maxBytes];
        var written = Encoding.UTF8.GetBytes(candidate, buffer);
        SHA256.HashData(buffer[..written], candidateHash);
        return CryptographicOperations.FixedTimeEquals(candidateHash, _hash);
    }
}
