using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Flowith2Api.Contracts;

namespace Flowith2Api.Gateway.Auth;

/// <summary>One web console session as the Gateway knows it: the hashes of its cookie token and of the admin key that signed in.</summary>
public sealed record ConsoleSession(byte[] TokenHash, byte[] KeyHash, DateTimeOffset Expires, DateTimeOffset? AddedLocally = null);

/// <summary>
/// The signed-in web console sessions, in memory like the keys: the AdminService's list (followed within a second of a
/// change), plus the sessions this replica just created. A cookie token is hashed, looked up and confirmed in constant
/// time; the session is only as good as its key — deleted, disabled or no longer admin, the session is gone too.
/// </summary>
public sealed class ConsoleSessionStore(ApiKeyStore keys, TimeProvider time)
{
    public const string CookieName = "f2a_console";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    /// <summary>How long a session made here is kept even when a reload (begun before it was stored) does not list it yet.</summary>
    private static readonly TimeSpan LocalGrace = TimeSpan.FromSeconds(5);

    private volatile Dictionary<UInt128, ConsoleSession> _byHash = [];

    /// <summary>Sessions signed out here, until they expire: a reload that read the list before the sign-out cannot bring one back.</summary>
    private readonly Dictionary<UInt128, DateTimeOffset> _revoked = [];
    private readonly Lock _gate = new();

    /// <summary>The admin key behind the request's console cookie, or null (no cookie, unknown, expired, key gone).</summary>
    public ApiKeyEntry? Authenticate(HttpRequest request, out string? token)
    {
        token = request.Cookies[CookieName];
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            token = null;
            return null;
        }

        var hash = Hash(token);
        if (!_byHash.TryGetValue(Slot(hash), out var session) || !CryptographicOperations.FixedTimeEquals(session.TokenHash, hash)
            || session.Expires <= time.GetUtcNow())
        {
            return null;
        }

        return keys.FindByHash(session.KeyHash) is { IsAdmin: true } entry ? entry : null;
    }

    /// <summary>The CSRF token of a session: derived from its cookie token, which scripts cannot read.</summary>
    public static string CsrfToken(string token) =>
        Base64Url(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "flowith2api console csrf"u8));

    public static bool CsrfMatches(string token, string? presented) =>
        presented is { Length: > 0 and < 128 }
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(CsrfToken(token)), Encoding.ASCII.GetBytes(presented));

    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public void Add(ConsoleSession session)
    {
        lock (_gate)
        {
            _byHash = new Dictionary<UInt128, ConsoleSession>(_byHash) { [Slot(session.TokenHash)] = session with { AddedLocally = time.GetUtcNow() } };
        }
    }

    public void Remove(byte[] tokenHash)
    {
        lock (_gate)
        {
            var slot = Slot(tokenHash);
            var next = new Dictionary<UInt128, ConsoleSession>(_byHash);
            _revoked[slot] = next.TryGetValue(slot, out var session) ? session.Expires : time.GetUtcNow() + Lifetime;
            next.Remove(slot);
            _byHash = next;
        }
    }

    /// <summary>The AdminService's list (<c>console_sessions</c> of <c>/internal/keys</c>); a malformed row is skipped.</summary>
    public void Replace(IEnumerable<ConsoleSessionRow?> sessions)
    {
        var now = time.GetUtcNow();
        var next = new Dictionary<UInt128, ConsoleSession>();
        foreach (var session in sessions)
        {
            if (Read(session) is { } read && read.Expires > now)
            {
                next[Slot(read.TokenHash)] = read;
            }
        }

        lock (_gate)
        {
            foreach (var (slot, session) in _byHash)
            {
                if (session.AddedLocally is { } added && now - added < LocalGrace)
                {
                    next.TryAdd(slot, session);
                }
            }

            foreach (var (slot, expires) in _revoked.ToList())
            {
                if (expires <= now)
                {
                    _revoked.Remove(slot);
                }
                else
                {
                    next.Remove(slot);
                }
            }

            _byHash = next;
        }
    }

    private static ConsoleSession? Read(ConsoleSessionRow? row)
    {
        if (row is not { TokenHash: { Length: 64 } tokenHex, KeyHash: { Length: 64 } keyHex, Expires: >= 0 and <= 253_402_300_799 }
            || !tokenHex.All(char.IsAsciiHexDigit) || !keyHex.All(char.IsAsciiHexDigit))
        {
            return null;
        }

        return new ConsoleSession(Convert.FromHexString(tokenHex), Convert.FromHexString(keyHex), DateTimeOffset.FromUnixTimeSeconds(row.Expires));
    }

    private static UInt128 Slot(byte[] hash) => BinaryPrimitives.ReadUInt128LittleEndian(hash);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
