using System.Net;
using System.Text;
using System.Text.Json;
using Deque.AxeCore.Playwright;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Flowith2Api.Tests.Console;

/// <summary>Chromium (Debian's package), driven by Playwright, offline; one browser for the class.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public RedisServer Redis { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright?.Dispose();
        await Redis.DisposeAsync();
    }
}

/// <summary>
/// The admin web console in a real browser through the real Gateway: sign in, add a credential and see a chat request
/// use it on the dashboard, disable it, create a key and use it, change a setting and see its effect, look at a
/// session, run a tool, sign out — and nothing reachable without signing in. Saves a screenshot of each page under
/// docs/screenshots/.
/// </summary>
public sealed class ConsoleBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string NewCredential = "flo_console_added_credential_7391";
    private static readonly string Screenshots = Path.Combine(TestEnvironment.RepositoryRoot, "docs", "screenshots");

    /// <summary>Everything the pages logged as an error (a script failure, a blocked inline style under the CSP, a failed load).</summary>
    private readonly List<string> _browserErrors = [];

    private Task<GatewayCluster> StartAsync() => GatewayCluster.StartAsync(new GatewayClusterOptions { Redis = fixture.Redis.ConnectionString });

    private async Task<IPage> NewPageAsync(GatewayCluster cluster, int width = 1280, int height = 900)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = cluster.GatewayUri.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = ColorScheme.Light,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        page.Console += (_, message) =>
        {
            // A signed-out probe (401) and the deliberately invalid setting (400) are expected answers, not page errors.
            if (message.Type == "error" && !message.Text.Contains("status of 401", StringComparison.Ordinal)
                && !message.Text.Contains("status of 400", StringComparison.Ordinal))
            {
                lock (_browserErrors)
                {
                    _browserErrors.Add(message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_browserErrors)
            {
                _browserErrors.Add(error);
            }
        };
        return page;
    }

    private async Task SignInAsync(IPage page, string key = GatewayCluster.AdminKeyValue, bool screenshot = false)
    {
        await page.GotoAsync("/admin/dashboard");
        await page.WaitForURLAsync("**/admin/login?next=*");
        await page.GetByLabel("Admin key").FillAsync(key);
        if (screenshot)
        {
            await page.GetByLabel("Admin key").FillAsync("");
            await SaveAsync(page, "login");
            await page.GetByLabel("Admin key").FillAsync(key);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/admin/dashboard");
        await WaitReadyAsync(page, "dashboard");
    }

    private static async Task WaitReadyAsync(IPage page, string name) => await page.WaitForSelectorAsync($"main[data-ready='{name}']");

    private static async Task OpenAsync(IPage page, string name, string linkText)
    {
        await page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = linkText }).ClickAsync();
        await page.WaitForURLAsync("**/admin/" + name);
        await WaitReadyAsync(page, name);
    }

    /// <summary>Serious or critical accessibility problems axe-core finds on the page (labels, contrast, roles, names…).</summary>
    private readonly List<string> _accessibility = [];

    private async Task SaveAsync(IPage page, string name)
    {
        var axe = await page.RunAxe();
        lock (_accessibility)
        {
            _accessibility.AddRange(axe.Violations.Where(v => v.Impact is "serious" or "critical")
                .Select(v => $"{name}: {v.Id} ({v.Impact}) {v.Help} at {string.Join(", ", v.Nodes.Take(3).Select(n => n.Target?.ToString()))}"));
        }

        Directory.CreateDirectory(Screenshots);
        await page.EvaluateAsync("window.scrollTo(0, 0)"); // a sticky header would otherwise sit mid-picture
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
    }

    private static async Task<HttpStatusCode> ChatAsync(GatewayCluster cluster, string key, string text, string? session = null)
    {
        using var http = cluster.CreateClient(key);
        var body = session is null
            ? JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = text } } })
            : JsonSerializer.Serialize(new { session_id = session, messages = new[] { new { role = "user", content = text } } });
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        return response.StatusCode;
    }

    [Fact]
    public async Task Without_signing_in_no_page_or_action_is_reachable()
    {
        await using var cluster = await StartAsync();
        var page = await NewPageAsync(cluster);

        foreach (var name in new[] { "dashboard", "credentials", "keys", "config", "sessions", "tools" })
        {
            await page.GotoAsync("/admin/" + name);
            await page.WaitForURLAsync("**/admin/login?next=%2Fadmin%2F" + name);
            Assert.True(await page.GetByLabel("Admin key").IsVisibleAsync());
        }

        // A wrong key, and a valid key that is not an admin key, are refused on the page.
        foreach (var key in new[] { "sk-not-a-key", GatewayCluster.UserKey })
        {
            await page.GetByLabel("Admin key").FillAsync(key);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not an admin key");
            Assert.Contains("/admin/login", page.Url, StringComparison.Ordinal);
        }

        // Actions without a session (or with a made-up cookie) are refused before they reach a service.
        using var anonymous = new HttpClient { BaseAddress = cluster.GatewayUri };
        using var forged = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/tokens") { Content = new StringContent("""{"token":"flo_x"}""", Encoding.UTF8, "application/json") };
        forged.Headers.Add("Cookie", "f2a_console=made-up-session-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(forged)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/admin/tokens")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/api/session")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await anonymous.PostAsync("/admin/dashboard", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/admin/assets/app.js")).StatusCode); // code, no data
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var list = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tokens"));
        Assert.Equal(1, list.RootElement.GetProperty("total").GetInt32()); // the forged add changed nothing
    }

    [Fact]
    public async Task Without_redis_the_dashboard_shows_the_requests_just_made()
    {
        // Embedded mode, as the README's first command runs on a machine without redis-server: the ChatService reports
        // its counts to the AdminService directly.
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = "flo_embedded_dashboard_4242",
            AdminSettings = new Dictionary<string, string> { ["STATS_SERIES_SECONDS"] = "1" },
        });
        var page = await NewPageAsync(cluster);
        await SignInAsync(page, screenshot: false);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatAsync(cluster, GatewayCluster.UserKey, "Embedded " + i));
        }

        await OpenAsync(page, "dashboard", "Dashboard");
        await Assertions.Expect(page.Locator("#by-credential")).ToContainTextAsync("flo…4242", new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator("#chart-rps")).Not.ToContainTextAsync("No traffic", new() { Timeout = 30_000 });
    }

    [Fact]
    public async Task An_admin_signs_in_and_steers_the_gateway_from_the_browser()
    {
        await using var cluster = await StartAsync();
        var page = await NewPageAsync(cluster);
        await SignInAsync(page, screenshot: true);
        Assert.Contains("Signed in as admin", await page.Locator("#who").InnerTextAsync(), StringComparison.Ordinal);

        // No key in browser storage; the session cookie is HttpOnly and SameSite=Strict.
        Assert.Equal(0, await page.EvaluateAsync<int>("localStorage.length + sessionStorage.length"));
        Assert.Equal("", await page.EvaluateAsync<string>("document.cookie"));
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "f2a_console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);

        // Keyboard only: Tab to the navigation and open a page with Enter.
        for (var i = 0; i < 15 && await page.EvaluateAsync<string>("document.activeElement?.textContent ?? ''") != "Credentials"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync("**/admin/credentials");
        await WaitReadyAsync(page, "credentials");

        // Credentials: add one; chat requests use it; the dashboard shows it used.
        await page.GetByLabel("Tokens").FillAsync(NewCredential);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        var masked = "flo…7391";
        var row = page.Locator("#credentials tbody tr", new() { HasText = masked });
        await Assertions.Expect(row).ToContainTextAsync("enabled");
        var used = false;
        for (var i = 0; i < 20 && !used; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatAsync(cluster, GatewayCluster.UserKey, "Hello from the console test " + i));
            used = cluster.UpstreamTokens().Contains(NewCredential);
        }

        Assert.True(used, "the credential added in the console was never used");
        await OpenAsync(page, "dashboard", "Dashboard");
        await Assertions.Expect(page.Locator("#by-credential")).ToContainTextAsync(masked, new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator("#chart-rps")).Not.ToContainTextAsync("No traffic", new() { Timeout = 30_000 });
        await SaveAsync(page, "dashboard");

        // Disable it: no request uses it any more.
        await OpenAsync(page, "credentials", "Credentials");
        await row.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("disabled");
        await Assertions.Expect(row).ToContainTextAsync("Disabled by an admin.");
        await Task.Delay(1500); // every replica follows within a second
        var before = cluster.UpstreamTokens().Count;
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatAsync(cluster, GatewayCluster.UserKey, "After disabling " + i));
        }

        Assert.DoesNotContain(NewCredential, cluster.UpstreamTokens().Skip(before));

        // A pasted batch, then the export as an env file.
        await page.GetByLabel("Tokens").FillAsync("flo_console_batch_0001\nflo_console_batch_0002, flo_console_batch_0003");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#credentials tbody tr")).ToHaveCountAsync(5);
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Export env" }).ClickAsync());
        var exported = await File.ReadAllTextAsync(await download.PathAsync());
        Assert.StartsWith("FLOWITH_AUTH_TOKENS=", exported, StringComparison.Ordinal);
        Assert.Contains("flo_console_batch_0003", exported, StringComparison.Ordinal);
        await SaveAsync(page, "credentials");

        // API keys: create one with a rate limit, see it once, use it.
        await OpenAsync(page, "keys", "API keys");
        await page.GetByLabel("Name").FillAsync("console-made");
        await page.GetByLabel("Requests per minute").FillAsync("30");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var newKey = await page.Locator("#new-key-value").InnerTextAsync();
        Assert.StartsWith("sk-f2a-", newKey, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#keys tbody tr", new() { HasText = "console-made" })).ToContainTextAsync("30/min");
        var keyWorks = HttpStatusCode.Unauthorized;
        for (var i = 0; i < 20 && keyWorks != HttpStatusCode.OK; i++)
        {
            keyWorks = await ChatAsync(cluster, newKey, "With the console's key");
            await Task.Delay(keyWorks == HttpStatusCode.OK ? 0 : 250);
        }

        Assert.Equal(HttpStatusCode.OK, keyWorks);
        await page.ReloadAsync(); // the full key is never shown again
        await WaitReadyAsync(page, "keys");
        Assert.DoesNotContain(newKey, await page.ContentAsync(), StringComparison.Ordinal);
        await SaveAsync(page, "keys");

        // Config: a bad value is refused next to its field; a good one takes effect on the next request.
        await OpenAsync(page, "config", "Config");
        await page.Locator("#setting-retryMax").FillAsync("99");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save retryMax" }).ClickAsync();
        await Assertions.Expect(page.Locator("#setting-retryMax-error")).ToContainTextAsync("'retryMax' must be an integer from 0 to 20");
        await page.Locator("#setting-systemPrompt").FillAsync("Answer as the console told you.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save systemPrompt" }).ClickAsync();
        await Assertions.Expect(page.Locator(".setting[data-key='systemPrompt']")).ToContainTextAsync("changed");
        var applied = false;
        for (var i = 0; i < 20 && !applied; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatAsync(cluster, GatewayCluster.UserKey, "Is the prompt there?"));
            applied = cluster.Fake.Requests.All[^1].Body.Contains("Answer as the console told you.", StringComparison.Ordinal);
            await Task.Delay(applied ? 0 : 250);
        }

        Assert.True(applied, "the system prompt set in the console never reached the upstream");
        await SaveAsync(page, "config");

        // A change without the session's CSRF token is refused, even with the session cookie.
        using (var http = new HttpClient { BaseAddress = cluster.GatewayUri })
        using (var forged = new HttpRequestMessage(HttpMethod.Patch, "/v1/admin/config") { Content = new StringContent("""{"retryMax":1}""", Encoding.UTF8, "application/json") })
        {
            forged.Headers.Add("Cookie", $"f2a_console={cookie.Value}");
            using var refused = await http.SendAsync(forged);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("csrf_token_invalid", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Sessions: find one by id and read its turns.
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(cluster, GatewayCluster.UserKey, "Remember the console.", session: "console-demo-session"));
        await OpenAsync(page, "sessions", "Sessions");
        await page.GetByLabel("Session id").FillAsync("console-demo-session");
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await Assertions.Expect(page.Locator("#session")).ToContainTextAsync("Remember the console.");
        await Assertions.Expect(page.Locator("#session")).ToContainTextAsync("fake-flowith reply to: Remember the console.");
        await SaveAsync(page, "sessions");
        page.Dialog += (_, dialog) => dialog.AcceptAsync(); // "Delete session …?"
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete session" }).ClickAsync();
        await page.WaitForURLAsync("**/admin/sessions");
        using (var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue))
        using (var gone = await admin.GetAsync("/v1/admin/sessions?session_id=console-demo-session"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        // Tools: run one with JSON arguments and see its result.
        await OpenAsync(page, "tools", "Tools");
        await page.GetByLabel("Tool", new() { Exact = true }).SelectOptionAsync("code_interpreter");
        await page.GetByLabel("Arguments (JSON)").FillAsync("""{"language":"python","code":"print(6*7)"}""");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await Assertions.Expect(page.Locator("#tool-result")).ToContainTextAsync("42", new() { Timeout = 30_000 });
        await SaveAsync(page, "tools");

        // Readable on a phone.
        var phone = await NewPageAsync(cluster, 390, 844);
        await phone.Context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = cookie.Name, Value = cookie.Value, Domain = cookie.Domain, Path = cookie.Path,
            HttpOnly = true, SameSite = SameSiteAttribute.Strict }]);
        await phone.GotoAsync("/admin/dashboard");
        await WaitReadyAsync(phone, "dashboard");
        Assert.True(await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the dashboard scrolls sideways on a phone");
        await SaveAsync(phone, "dashboard-phone");

        // Sign out: the cookie no longer opens anything, here or replayed.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/admin/login");
        await page.GotoAsync("/admin/keys");
        await page.WaitForURLAsync("**/admin/login?next=*");
        await Task.Delay(1500);
        using var replay = new HttpClient { BaseAddress = cluster.GatewayUri };
        using var replayed = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/tokens");
        replayed.Headers.Add("Cookie", $"f2a_console={cookie.Value}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.SendAsync(replayed)).StatusCode);
        Assert.Empty(_browserErrors);
        Assert.True(_accessibility.Count == 0, string.Join("\n", _accessibility));
    }
}
