using System.Text.RegularExpressions;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// Removes secrets from text that may reach a log, a span or an error message: the known secrets passed in, and
/// anything shaped like a Flowith token or a bearer credential.
/// </summary>
public static partial class Redaction
{
    public static string Redact(string text, params ReadOnlySpan<string?> knownSecrets)
    {
        foreach (var secret in knownSecrets)
        {
            if (!string.IsNullOrEmpty(secret) && secret.Length >= 4)
            {
                text = text.Replace(secret, SeedSettings.Mask(secret), StringComparison.Ordinal);
            }
        }

        return SecretShape().Replace(text, static m => SeedSettings.Mask(m.Value));
    }

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?:flo[_-][A-Za-z0-9_\-]{12,}|sk-[A-Za-z0-9_\-]{12,})", RegexOptions.CultureInvariant)]
    private static partial Regex SecretShape();
}
