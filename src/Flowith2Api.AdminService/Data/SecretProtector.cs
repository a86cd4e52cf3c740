using System.Security.Cryptography;
using System.Text;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.AdminService.Data;

/// <summary>
/// Encrypts credential values at rest (AES-256-GCM) with <c>CREDENTIAL_ENCRYPTION_KEY</c>; without it, a key file under
/// the data directory is made once and reused (fine for one box; a cluster must configure the key).
/// </summary>
public sealed partial class SecretProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SecretProtector(IConfiguration configuration, ILogger<SecretProtector> logger)
    {
        var configured = configuration["CREDENTIAL_ENCRYPTION_KEY"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            _key = SHA256.HashData(Encoding.UTF8.GetBytes(configured.Trim()));
            return;
        }

        var path = Path.Combine(StorageSettings.DataDirectory(configuration), "credential.key");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!File.Exists(path))
        {
            File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(32));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            LogKeyFileCreated(logger);
        }

        _key = File.ReadAllBytes(path);
    }

    public static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    public byte[] Protect(string value)
    {
        var plain = Encoding.UTF8.GetBytes(value);
        var output = new byte[NonceSize + plain.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length));
        return output;
    }

    public string Unprotect(byte[] protectedValue)
    {
        var length = protectedValue.Length - NonceSize - TagSize;
        var plain = new byte[length];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(protectedValue.AsSpan(0, NonceSize), protectedValue.AsSpan(NonceSize, length), protectedValue.AsSpan(NonceSize + length), plain);
        return Encoding.UTF8.GetString(plain);
    }

    public static string Mask(string value) => SeedSettings.Mask(value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CREDENTIAL_ENCRYPTION_KEY is not set: a key file was created in the data directory. Set the variable for a cluster.")]
    private static partial void LogKeyFileCreated(ILogger logger);
}
