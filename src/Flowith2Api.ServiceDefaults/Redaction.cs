using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// The redaction component: removes secrets from any text that may reach a log line, a span or an error message.
/// It knows two kinds of secret: anything shaped like a Flowith token or an API key (<c>flo_…</c>, <c>sk-…</c>), and
/// every secret value this process was configured with or has loaded since (credentials, keys, the internal secret),
/// registered with <see cref="Remember"/>. Log output and exported telemetry pass through it centrally
/// (<see cref="RedactingJsonConsoleFormatter"/>, <see cref="RedactingLogProcessor"/>, <see cref="RedactingSpanProcessor"/>).
/// </summary>
public static partial class Redaction
{
    /// <summary>Shortest value treated as a secret when remembered (shorter ones would mask ordinary words).</summary>
    public const int MinimumSecretLength = 8;

    private const int PrefixLength = MinimumSecretLength;

    // Remembered secrets by their first characters (longest first), so a text is scanned once whatever their number.
    private static readonly ConcurrentDictionary<string, string[]> Known = new(StringComparer.Ordinal);

    // Which characters start a remembered secret: most positions of a text are skipped without a lookup.
    private static readonly bool[] StartsSecret = new bool[char.MaxValue + 1];

    /// <summary>Registers secret values (a credential, a key) so that they are masked wherever they appear.</summary>
    public static void Remember(params ReadOnlySpan<string?> secrets)
    {
        foreach (var secret in secrets)
        {
            var value = secret?.Trim();
            if (!string.IsNullOrEmpty(value) && value.Length >= MinimumSecretLength)
            {
                StartsSecret[value[0]] = true;
                Known.AddOrUpdate(value[..PrefixLength], _ => [value],
                    (_, existing) => existing.Contains(value, StringComparer.Ordinal)
                        ? existing
                        : [.. existing.Append(value).OrderByDescending(s => s.Length)]);
            }
        }
    }

    /// <summary>Remembers every secret setting of the configuration (lists split) and the passwords in connection strings.</summary>
    public static void RememberConfigured(IConfiguration configuration)
    {
        foreach (var connectionString in configuration.GetSection("ConnectionStrings").GetChildren())
        {
            foreach (System.Text.RegularExpressions.Match match in ConnectionPassword().Matches(connectionString.Value ?? ""))
            {
                Remember(match.Groups[1].Value);
            }
        }

        foreach (var name in SecretSettingNames)
        {
            if (configuration[name] is { Length: > 0 } value)
            {
                foreach (var part in value.Split([',', '\n', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    Remember(part);
                }
            }
        }
    }

    /// <summary>The settings whose values are secrets.</summary>
    public static IReadOnlyList<string> SecretSettingNames { get; } =
        [.. SeedSettings.Secrets, SeedSettings.InternalSecret, "CREDENTIAL_ENCRYPTION_KEY", "REDIS_PASSWORD", "IMAGE_API_KEY", "MCP_SERVERS",
            "POSTGRES_PASSWORD", "ADMINDB_PASSWORD"];

    /// <summary>The text with every known or secret-shaped value masked; the same instance when there was nothing to mask.</summary>
    public static string Redact(string text, params ReadOnlySpan<string?> knownSecrets)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        foreach (var secret in knownSecrets)
        {
            if (!string.IsNullOrEmpty(secret) && secret.Length >= 4 && text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, SeedSettings.Mask(secret), StringComparison.Ordinal);
            }
        }

        if (!Known.IsEmpty)
        {
            text = RedactKnown(text);
        }

        return SecretShape().IsMatch(text) ? SecretShape().Replace(text, static m => SeedSettings.Mask(m.Value)) : text;
    }

    /// <summary>
    /// Masks remembered secrets wherever they start (also right after a letter, as in URL-encoded or escaped text).
    /// Only positions holding a character some secret starts with are looked up, by their first characters: the cost
    /// is linear in the text, not in the number of secrets.
    /// </summary>
    private static string RedactKnown(string text)
    {
        StringBuilder? result = null;
        var copied = 0;
        var lookup = Known.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var i = 0; i + PrefixLength <= text.Length; i++)
        {
            if (!StartsSecret[text[i]] || !lookup.TryGetValue(text.AsSpan(i, PrefixLength), out var candidates))
            {
                continue;
            }

            foreach (var secret in candidates)
            {
                if (i + secret.Length <= text.Length && string.CompareOrdinal(text, i, secret, 0, secret.Length) == 0)
                {
                    result ??= new StringBuilder(text.Length);
                    result.Append(text, copied, i - copied).Append(SeedSettings.Mask(secret));
                    copied = i + secret.Length;
                    i = copied - 1;
                    break;
                }
            }
        }

        return result is null ? text : result.Append(text, copied, text.Length - copied).ToString();
    }

    [GeneratedRegex(@"(?i)(?:password|pwd)\s*=\s*([^;,\s]+)", RegexOptions.CultureInvariant)]
    private static partial Regex ConnectionPassword();

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?:flo[_-][A-Za-z0-9_\-]{12,}|sk-[A-Za-z0-9_\-]{12,})", RegexOptions.CultureInvariant)]
    private static partial Regex SecretShape();
}
