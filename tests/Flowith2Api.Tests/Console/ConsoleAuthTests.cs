using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Console;

/// <summary>The console's session at the HTTP level: what a cookie opens, what it does not, and when it ends.</summary>
public sealed class ConsoleAuthTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Signs in and returns the cookie token and the CSRF token.</summary>
    private static async Task<(string Cookie, string Csrf)> SignInAsync(GatewayCluster cluster, string key)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = cluster.GatewayUri };
        using var response = await http.PostAsync("/admin/api/session", Json(JsonSerializer.Serialize(new { key })));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        var token = setCookie.Split(';')[0]["f2a_console=".Length..];
        return (token, JsonDocument.Parse(body).RootElement.GetProperty("csrf_token").GetString()!);
    }

    private static async Task<HttpStatusCode> SendAsync(GatewayCluster cluster, HttpMethod method, string path, string? cookie, string? csrf = null,
        string? body = null, string? origin = null)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = cluster.GatewayUri };
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", "f2a_console=" + cookie);
        }

        if (csrf is not null)
        {
            request.Headers.Add("x-csrf-token", csrf);
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_session_opens_the_admin_api_and_console_but_not_the_client_api_and_changes_need_its_csrf_token_from_this_origin()
    {
        await using var cluster = await GatewayCluster.StartAsync();
        var (cookie, csrf) = await SignInAsync(cluster, GatewayCluster.AdminKeyValue);
        var self = cluster.GatewayUri.GetLeftPart(UriPartial.Authority);

        Assert.Equal(HttpStatusCode.OK, await SendAsync(cluster, HttpMethod.Get, "/v1/admin/tokens", cookie, csrf));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(cluster, HttpMethod.Get, "/v1/admin/tokens/export", cookie)); // reads need the token too
        Assert.Equal(HttpStatusCode.OK, await SendAsync(cluster, HttpMethod.Get, "/admin/keys", cookie));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(cluster, HttpMethod.Get, "/v1/admin/sessions", cookie, csrf)); // ChatService behind the same realm
        Assert.Equal(HttpStatusCode.MethodNotAllowed, await SendAsync(cluster, HttpMethod.Post, "/admin/keys", cookie, csrf, "{}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, await SendAsync(cluster, HttpMethod.Put, "/admin/api/session", cookie, csrf, "{}"));
        Assert.Equal(HttpStatusCode.Unauthorized,
            await SendAsync(cluster, HttpMethod.Post, "/v1/chat/completions", cookie, csrf, """{"messages":[{"role":"user","content":"hi"}]}"""));

        const string Patch = """{"retryMax":2}""";
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(cluster, HttpMethod.Patch, "/v1/admin/config", cookie, null, Patch));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(cluster, HttpMethod.Patch, "/v1/admin/config", cookie, "wrong-token", Patch));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(cluster, HttpMethod.Patch, "/v1/admin/config", cookie, csrf, Patch, origin: "https://evil.example"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(cluster, HttpMethod.Patch, "/v1/admin/config", cookie, csrf, Patch, origin: self));

        // Another session's CSRF token does not fit this one.
        var (_, otherCsrf) = await SignInAsync(cluster, GatewayCluster.AdminKeyValue);
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(cluster, HttpMethod.Patch, "/v1/admin/config", cookie, otherCsrf, Patch));
    }

    [Fact]
    public async Task Without_a_session_pages_redirect_to_sign_in_and_nothing_reaches_the_internal_routes()
    {
        await using var cluster = await GatewayCluster.StartAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = cluster.GatewayUri };

        using (var page = await http.GetAsync("/admin/config"))
        {
            Assert.Equal(HttpStatusCode.Found, page.StatusCode);
            Assert.Equal("/admin/login?next=%2Fadmin%2Fconfig", page.Headers.Location!.OriginalString);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/admin/login")).StatusCode);
        foreach (var path in new[]
        {
            "/admin/assets/..%2F..%2Finternal%2Fkeys", "/admin/assets/%2e%2e/%2e%2e/internal/keys", "/admin/../internal/keys", "/admin/login/../../internal/keys",
            "/admin/assets/login.html", "/internal/keys", "/admin/api/session/../../../internal/keys",
        })
        {
            using var response = await http.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.False(response.StatusCode == HttpStatusCode.OK && body.Contains("\"keys\"", StringComparison.Ordinal), $"{path} answered the key list");
            Assert.DoesNotContain("hash", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_session_ends_with_sign_out_and_with_its_key()
    {
        await using var redis = await RedisServer.StartAsync(); // changes reach the Gateway within a second
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { Redis = redis.ConnectionString });
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var created = await admin.PostAsync("/v1/admin/keys", Json("""{"name":"second-admin","is_admin":true}"""));
        using var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var secondAdmin = key.RootElement.GetProperty("key").GetString()!;
        var id = key.RootElement.GetProperty("id").GetInt64();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (string Cookie, string Csrf) session = default;
        while (session == default)
        {
            try
            {
                session = await SignInAsync(cluster, secondAdmin);
            }
            catch (Xunit.Sdk.TrueException) when (clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(200); // the new key reaches the Gateway
            }
        }

        var (signedOut, signedOutCsrf) = await SignInAsync(cluster, GatewayCluster.AdminKeyValue);
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(cluster, HttpMethod.Delete, "/admin/api/session", signedOut, signedOutCsrf));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(cluster, HttpMethod.Get, "/v1/admin/tokens", signedOut));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(cluster, HttpMethod.Get, "/admin/api/session", signedOut));

        Assert.Equal(HttpStatusCode.OK, await SendAsync(cluster, HttpMethod.Get, "/v1/admin/tokens", session.Cookie, session.Csrf));
        using (await admin.PatchAsync($"/v1/admin/keys/{id}", Json("""{"enabled":false}""")))
        {
        }

        clock.Restart();
        while (await SendAsync(cluster, HttpMethod.Get, "/v1/admin/tokens", session.Cookie, session.Csrf) != HttpStatusCode.Unauthorized)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "a session outlived the disabling of its key");
            await Task.Delay(200);
        }

        // Enabling the key again does not bring the session back.
        using (await admin.PatchAsync($"/v1/admin/keys/{id}", Json("""{"enabled":true}""")))
        {
        }

        await Task.Delay(1500);
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(cluster, HttpMethod.Get, "/v1/admin/tokens", session.Cookie, session.Csrf));
        session = await SignInAsync(cluster, secondAdmin);
        using (await admin.DeleteAsync($"/v1/admin/keys/{id}"))
        {
        }

        clock.Restart();
        while (await SendAsync(cluster, HttpMethod.Get, "/v1/admin/tokens", session.Cookie, session.Csrf) != HttpStatusCode.Unauthorized)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "a session outlived its deleted key");
            await Task.Delay(200);
        }
    }

    [Theory]
    [InlineData("text/plain", null)]
    [InlineData("application/x-www-form-urlencoded", null)]
    [InlineData("application/json", "https://evil.example")]
    public async Task Sign_in_takes_json_from_this_origin_only(string contentType, string? origin)
    {
        await using var cluster = await GatewayCluster.StartAsync();
        using var http = new HttpClient { BaseAddress = cluster.GatewayUri };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/api/session")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { key = GatewayCluster.AdminKeyValue }), Encoding.UTF8, contentType),
        };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Guessing_admin_keys_is_throttled_per_address()
    {
        await using var cluster = await GatewayCluster.StartAsync();
        using var http = new HttpClient { BaseAddress = cluster.GatewayUri };
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await http.PostAsync("/admin/api/session", Json($$"""{"key":"sk-guess-{{i}}"}"""));
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses.Take(10), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.All(statuses.Skip(10), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        using var real = await http.PostAsync("/admin/api/session", Json(JsonSerializer.Serialize(new { key = GatewayCluster.AdminKeyValue })));
        Assert.Equal(HttpStatusCode.TooManyRequests, real.StatusCode); // even the right key waits: no oracle while locked out
        Assert.True(real.Headers.RetryAfter?.Delta > TimeSpan.Zero);
    }
}
