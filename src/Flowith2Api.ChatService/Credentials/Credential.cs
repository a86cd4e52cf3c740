using System.Security.Cryptography;
using System.Text;

namespace Flowith2Api.ChatService.Credentials;

/// <summary>
/// One Flowith credential. <see cref="Id"/> is a hash prefix: it names the credential in Redis, logs, spans and admin
/// lists, so the value itself is never stored or shown outside the call that uses it.
/// </summary>
public sealed class Credential
{
    public Credential(string value)
    {
        Value = value;
        Id = "cred_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)).AsSpan(0, 8));
        Masked = SeedSettings.Mask(value);
        Redaction.Remember(value); // whatever text it may end up in (an upstream error, an exception), it is masked
    }

    public string Id { get; }

    public string Value { get; }

    public string Masked { get; }

    public override string ToString() => Masked;
}

/// <summary>Where the pool's members come from: the environment now, the AdminService's database later.</summary>
public interface ICredentialSource
{
    IReadOnlyList<Credential> Current { get; }
}

/// <summary>The pool seeded from <c>FLOWITH_AUTH_TOKENS</c>.</summary>
public sealed class EnvironmentCredentialSource(IConfiguration configuration) : ICredentialSource
{
    public IReadOnlyList<Credential> Current { get; } =
        [.. SeedSettings.SplitList(configuration[SeedSettings.FlowithAuthTokens]).Select(v => new Credential(v))];
}

public enum CredentialState
{
    Active,
    Cooling,
    Disabled,
}

/// <summary>What the pool remembers about a credential that is not simply healthy.</summary>
public readonly record struct CredentialHealth(CredentialState State, long UntilUnixMs, int Failures, string Reason)
{
    public bool IsUsable(long nowUnixMs) => State == CredentialState.Active || (State == CredentialState.Cooling && UntilUnixMs <= nowUnixMs);

    public string Serialize() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(int)State}|{UntilUnixMs}|{Failures}|{Reason}");

    public static CredentialHealth? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var parts = value.Split('|', 4);
        return parts.Length == 4
            && int.TryParse(parts[0], out var state)
            && long.TryParse(parts[1], out var until)
            && int.TryParse(parts[2], out var failures)
                ? new CredentialHealth((CredentialState)state, until, failures, parts[3])
                : null;
    }
}

/// <summary>A credential handed to one upstream attempt, with the health it had when it was picked.</summary>
public sealed record CredentialLease(Credential Credential, CredentialHealth? Health);

/// <summary>One credential's state for admin lists and stats.</summary>
public sealed record CredentialStatus(string Id, string Masked, CredentialState State, DateTimeOffset? Until, int Failures, string? Reason);
