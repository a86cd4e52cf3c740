using System.Net.Sockets;
using System.Text;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Reliability.Tests.Attack;

/// <summary>One cluster for the attack tests that do not change state.</summary>
public sealed class AttackCluster : IAsyncLifetime
{
    public const string Credential = "flo_attack_suite_credential_5d1c9e";

    public GatewayCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Credential });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// Reaching the admin realm (or the services' internal routes) without the admin key, by every path trick we know:
/// dot segments plain and encoded, encoded slashes, doubled slashes, case, trailing dots, NULs, matrix parameters,
/// and the same tricks aimed at <c>/internal/*</c> behind each route. Sent raw over TCP so no client library tidies
/// the path first. A trick may be refused or routed somewhere harmless; it may never answer admin data.
/// </summary>
public sealed class AdminRealmBypassTests(AttackCluster fixture) : IClassFixture<AttackCluster>
{
    public static readonly TheoryData<string> Paths =
    [
        "/v1/admin/tokens", "/V1/ADMIN/TOKENS", "/v1/Admin/tokens", "//v1/admin/tokens", "/v1//admin/tokens", "/v1/admin//tokens",
        "/v1/admin/./tokens", "/v1/chat/../admin/tokens", "/v1/models/../admin/tokens", "/v1/models/%2e%2e/admin/tokens",
        "/v1/models/%2E%2E/admin/tokens", "/v1/models/..%2fadmin%2ftokens", "/v1/models/..%2Fadmin%2Ftokens", "/v1/%61dmin/tokens",
        "/v1/admin%2ftokens", "/v1/admin%2Ftokens", "/v1/admin/tokens.", "/v1/admin./tokens", "/v1/admin/tokens%00", "/v1/admin%00/tokens",
        "/v1/admin/tokens;x=1", "/v1/admin;x=1/tokens", "/v1/admin/tokens%20", "/v1/admin/tokens/", "/v1/admin/tokens/export?format=env",
        "/v1/admin/tokens/export%3Fformat=env", "/v1/messages/..%2f..%2fv1/admin/tokens", "/v1/responses/%2e%2e/%2e%2e/v1/admin/keys",
        "/v1/admin/../admin/keys", "/v1/admin/%2e%2e/admin/keys", "/v1/admin/config", "/v1/admin/stats", "/v1/admin/sessions",
        "/v1/admin/tools", "/metrics", "/admin/dashboard", "/admin/api/session", "/v1/admin/tokens%2f..%2f..%2finternal%2fcredentials",
        "/internal/credentials", "/internal/keys", "/internal/config", "/v1/models/..%2f..%2finternal%2fcredentials",
        "/v1/models/%2e%2e/%2e%2e/internal/credentials", "/v1/responses/..%2F..%2Finternal%2Fkeys", "/admin/assets/..%2f..%2finternal%2fkeys",
        "/admin/assets/%2e%2e/%2e%2e/internal/keys", "/mcp/../internal/credentials", "/mcp/..%2finternal%2fcredentials",
        "/v1/admin/sessions/..%2f..%2finternal%2fcredentials", "/v1/admin/tools/..%2f..%2finternal%2fcredentials", "/%2e%2e/internal/keys",
        "/v1/admin/tokens#x", "/v1/admin/tokens?", "/v1/admin\\tokens", "/v1\\admin\\tokens",
    ];

    /// <summary>The tricks aimed at a service's <c>/internal/*</c> routes.</summary>
    public static readonly TheoryData<string> InternalPaths = [.. Paths.Cast<object[]>().Select(row => (string)row[0]).Where(path => path.Contains("internal", StringComparison.Ordinal))];

    /// <summary>What admin data looks like in a body: the credential, a key list, the config, the statistics.</summary>
    private static bool LooksLikeAdminData(string body) =>
        body.Contains(AttackCluster.Credential, StringComparison.Ordinal) || body.Contains("\"hash\"", StringComparison.Ordinal)
        || body.Contains("\"tokens\":", StringComparison.Ordinal) || body.Contains("\"keys\":", StringComparison.Ordinal)
        || body.Contains("\"settings\":", StringComparison.Ordinal) || body.Contains("\"requests\":", StringComparison.Ordinal)
        || body.Contains("FLOWITH_AUTH_TOKENS", StringComparison.Ordinal) || body.Contains("flowith2api_", StringComparison.Ordinal)
        || body.Contains("\"credentials\":", StringComparison.Ordinal) || body.Contains("\"total\":", StringComparison.Ordinal);

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task A_path_trick_with_a_client_key_or_none_never_reaches_admin_data(string path)
    {
        foreach (var key in new[] { GatewayCluster.UserKey, null })
        {
            foreach (var method in new[] { "GET", "POST", "DELETE" })
            {
                var (status, body) = await RawAsync(fixture.Cluster, method, path, key, body: method == "GET" ? null : "{}");
                Assert.True(status is >= 200 and < 600, $"{method} {path}: no valid answer ({status})");
                Assert.False(status is >= 200 and < 300 && LooksLikeAdminData(body), $"{method} {path} with {(key is null ? "no key" : "a client key")} answered admin data: {status} {body}");
                Assert.True(status != 500, $"{method} {path} with {(key is null ? "no key" : "a client key")}: 500 {body}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(InternalPaths))]
    public async Task Even_the_admin_key_never_reaches_a_services_internal_routes(string path)
    {
        foreach (var method in new[] { "GET", "POST", "DELETE" })
        {
            var (status, body) = await RawAsync(fixture.Cluster, method, path, GatewayCluster.AdminKeyValue, body: method == "GET" ? null : "{}");
            Assert.True(status is >= 400 and < 500, $"{method} {path} with the admin key: {status} {body} (an internal route is never answered to a client)");
            Assert.False(body.Contains(AttackCluster.Credential, StringComparison.Ordinal) || body.Contains("\"hash\"", StringComparison.Ordinal),
                $"{method} {path} answered internal data to a client: {status} {body}");
        }
    }

    /// <summary>One request written byte for byte on a fresh connection; the status and body of the answer.</summary>
    internal static async Task<(int Status, string Body)> RawAsync(GatewayCluster cluster, string method, string target, string? key, string? extraHeaders = null,
        string? body = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(cluster.GatewayUri.Host, cluster.GatewayUri.Port);
        await using var stream = client.GetStream();
        var request = new StringBuilder();
        request.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\nHost: ").Append(cluster.GatewayUri.Authority).Append("\r\nConnection: close\r\n");
        if (key is not null)
        {
            request.Append("Authorization: Bearer ").Append(key).Append("\r\n");
        }

        request.Append(extraHeaders);
        var content = body ?? "";
        if (method != "GET")
        {
            request.Append("Content-Type: application/json\r\nContent-Length: ").Append(Encoding.UTF8.GetByteCount(content)).Append("\r\n");
        }

        request.Append("\r\n").Append(method != "GET" ? content : "");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var response = await reader.ReadToEndAsync(timeout.Token);
        var firstLine = response.Split("\r\n", 2)[0];
        var status = firstLine.Split(' ') is [_, var code, ..] && int.TryParse(code, out var parsed) ? parsed : 0;
        var separator = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (status, separator < 0 ? "" : response[(separator + 4)..]);
    }
}
