using System.Net.Sockets;
using System.Text;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Reliability.Tests.Attack;

/// <summary>
/// Host and forwarding headers, the services' own internal headers, method overrides, and request smuggling through the
/// YARP edge (conflicting Content-Length / Transfer-Encoding): none of them turns a client key into the admin, or
/// slips a second request past authentication.
/// </summary>
public sealed class HeaderAndSmugglingTests(AttackCluster fixture) : IClassFixture<AttackCluster>
{
    public static readonly TheoryData<string> TrickHeaders =
    [
        "Host: admin-service\r\n", "X-Forwarded-Host: admin-service\r\n", "X-Forwarded-For: 127.0.0.1\r\n", "X-Real-IP: 127.0.0.1\r\n",
        "X-Original-URL: /v1/admin/tokens\r\n", "X-Rewrite-URL: /v1/admin/tokens\r\n", "X-HTTP-Method-Override: DELETE\r\n",
        "X-Forwarded-Prefix: /v1/admin\r\n", "X-Forwarded-Proto: https\r\n", "Forwarded: for=127.0.0.1;host=admin-service;proto=https\r\n",
        "x-flowith2api-admin: true\r\n", "x-flowith2api-key-id: key_admin\r\n", "X-FLOWITH2API-ADMIN: true\r\nx-flowith2api-internal: guess\r\n",
        $"x-flowith2api-internal: {GatewayCluster.InternalSecret}\r\nx-flowith2api-admin: true\r\n",
    ];

    [Theory]
    [MemberData(nameof(TrickHeaders))]
    public async Task Forwarding_and_internal_headers_do_not_make_a_client_key_an_admin(string headers)
    {
        foreach (var path in new[] { "/v1/admin/tokens", "/v1/admin/keys", "/v1/admin/config", "/v1/admin/sessions", "/v1/admin/tools" })
        {
            var (status, body) = await AdminRealmBypassTests.RawAsync(fixture.Cluster, "GET", path, GatewayCluster.UserKey, headers);
            Assert.True(status is 403 or 400 or 421, $"{path} with {headers.Trim()}: {status} {body}");
        }

        // A client route with the trick headers is still just the client's own call.
        var (modelsStatus, models) = await AdminRealmBypassTests.RawAsync(fixture.Cluster, "GET", "/v1/models", GatewayCluster.UserKey, headers);
        Assert.True(modelsStatus is 200 or 400 or 421, $"/v1/models with {headers.Trim()}: {modelsStatus}");
        Assert.DoesNotContain(AttackCluster.Credential, models, StringComparison.Ordinal);
    }

    public static readonly TheoryData<string> Smuggling =
    [
        // CL.TE: a second request hidden in the body.
        "POST /v1/models HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/admin/tokens HTTP/1.1\r\nHost: h\r\n\r\n",
        // TE.CL.
        "POST /v1/models HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /v1/admin/tokens HTTP/1.1\r\nHost: h\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n",
        // Obfuscated Transfer-Encoding.
        "POST /v1/models HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\nGET /v1/admin/tokens HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST /v1/models HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\nGET /v1/admin/tokens HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST /v1/models HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /v1/admin/tokens HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST /v1/models HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\nGET /v1/admin/tokens HTTP/1.1\r\nHost: h\r\n\r\n",
        // Two different Content-Lengths.
        "POST /v1/models HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\nGET /v1/admin/tokens HTTP/1.1\r\nHost: h\r\n\r\n",
        // A bare LF and a header folded over two lines.
        "POST /v1/models HTTP/1.1\nHost: h\nContent-Length: 0\n\nGET /v1/admin/tokens HTTP/1.1\nHost: h\n\n",
        "POST /v1/models HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n Transfer-Encoding: chunked\r\n\r\nGET /v1/admin/tokens HTTP/1.1\r\nHost: h\r\n\r\n",
    ];

    [Theory]
    [MemberData(nameof(Smuggling))]
    public async Task A_smuggled_second_request_never_runs_with_the_first_ones_key(string attack)
    {
        // The outer request carries a client key; the hidden one asks for the admin realm on the same connection.
        var withKey = attack.Replace("Host: h\r\n", $"Host: h\r\nAuthorization: Bearer {GatewayCluster.UserKey}\r\n", StringComparison.Ordinal)
            .Replace("Host: h\n", $"Host: h\nAuthorization: Bearer {GatewayCluster.UserKey}\n", StringComparison.Ordinal);
        using var client = new TcpClient();
        await client.ConnectAsync(fixture.Cluster.GatewayUri.Host, fixture.Cluster.GatewayUri.Port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(withKey));
        var received = new StringBuilder();
        var buffer = new byte[16384];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The server kept the connection open after answering (or reset it): what it sent is what counts.
        }

        var text = received.ToString();
        Assert.DoesNotContain(AttackCluster.Credential, text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"tokens\":", text, StringComparison.Ordinal);
        // Whatever was answered, the admin realm was never answered with a 200.
        foreach (var response in text.Split("HTTP/1.1 ", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.False(response.StartsWith("200", StringComparison.Ordinal) && response.Contains("\"total\"", StringComparison.Ordinal), text);
        }

        Assert.DoesNotContain("HTTP/1.1 500", text, StringComparison.Ordinal);
    }
}
