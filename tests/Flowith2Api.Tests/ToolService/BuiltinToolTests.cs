using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Flowith2Api.Tests.ToolService;

/// <summary>web_search and image_gen against fake backends, through the Gateway's admin door; the SSRF guard.</summary>
public sealed class BuiltinToolTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static Task<TestBackend> SearchBackendAsync() => TestBackend.StartAsync((app, _) =>
    {
        app.MapGet("/search", (HttpContext context) => Results.Json(new
        {
            query = context.Request.Query["q"].ToString(),
            results = new[]
            {
                new { title = "Flowith", url = "https://flowith.io", content = "An AI workspace." },
                new { title = "Second", url = "https://example.org/2", content = "More about " + context.Request.Query["q"] },
            },
        }));
    });

    private static async Task<JsonElement> ExecuteAsync(GatewayCluster cluster, string tool, string arguments)
    {
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var response = await admin.PostAsync("/v1/admin/tools/execute", Json($$"""{"tool":"{{tool}}","arguments":{{arguments}}}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task Web_search_returns_title_url_and_snippet_from_a_searxng_backend()
    {
        await using var search = await SearchBackendAsync();
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ToolSettings = new Dictionary<string, string> { ["SEARCH_URL"] = search.Uri.ToString(), ["OUTBOUND_ALLOWED_HOSTS"] = search.HostAndPort },
        });

        var result = await ExecuteAsync(cluster, "web_search", """{"query":"flowith gateway","max_results":1}""");

        Assert.False(result.GetProperty("is_error").GetBoolean());
        var payload = JsonDocument.Parse(result.GetProperty("result").GetString()!).RootElement;
        var hit = payload.GetProperty("results").EnumerateArray().Single();
        Assert.Equal("Flowith", hit.GetProperty("title").GetString());
        Assert.Equal("https://flowith.io", hit.GetProperty("url").GetString());
        Assert.Equal("An AI workspace.", hit.GetProperty("snippet").GetString());
        Assert.Equal("/search?q=flowith%20gateway&format=json", search.Requests.Single().PathAndQuery);
    }

    [Fact]
    public async Task Web_search_without_a_backend_says_how_to_configure_one()
    {
        await using var cluster = await GatewayCluster.StartAsync();
        var result = await ExecuteAsync(cluster, "web_search", """{"query":"x"}""");
        Assert.True(result.GetProperty("is_error").GetBoolean());
        Assert.Contains("SEARCH_URL", result.GetProperty("result").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:{other}/secret")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.1/internal")]
    public async Task A_redirect_to_a_private_or_metadata_address_is_refused(string target)
    {
        await using var other = await TestBackend.StartAsync((app, _) => app.MapGet("/secret", () => "internal secret"));
        var location = target.Replace("{other}", other.Uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        await using var redirector = await TestBackend.StartAsync((app, _) => app.MapGet("/search", () => Results.Redirect(location)));
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ToolSettings = new Dictionary<string, string> { ["SEARCH_URL"] = redirector.Uri.ToString(), ["OUTBOUND_ALLOWED_HOSTS"] = redirector.HostAndPort },
        });

        var result = await ExecuteAsync(cluster, "web_search", """{"query":"x"}""");

        Assert.True(result.GetProperty("is_error").GetBoolean());
        Assert.Contains("Refused", result.GetProperty("result").GetString(), StringComparison.Ordinal);
        Assert.Single(redirector.Requests);
        Assert.Empty(other.Requests);
    }

    [Fact]
    public async Task A_backend_on_a_loopback_address_that_is_not_allowed_is_refused()
    {
        await using var search = await SearchBackendAsync();
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ToolSettings = new Dictionary<string, string> { ["SEARCH_URL"] = search.Uri.ToString() },
        });

        var result = await ExecuteAsync(cluster, "web_search", """{"query":"x"}""");
        Assert.True(result.GetProperty("is_error").GetBoolean());
        Assert.Empty(search.Requests);
    }

    [Fact]
    public async Task Image_gen_calls_an_openai_compatible_images_api_with_its_key_and_model()
    {
        await using var images = await TestBackend.StartAsync((app, _) => app.MapPost("/v1/images/generations", () => Results.Json(new
        {
            created = 1,
            data = new[] { new { url = "https://images.example/cat.png", revised_prompt = "a cat, photo" } },
        })));
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ToolSettings = new Dictionary<string, string>
            {
                ["IMAGE_API_BASE"] = new Uri(images.Uri, "/v1").ToString(),
                ["IMAGE_API_KEY"] = "sk-image-key",
                ["IMAGE_MODEL"] = "test-image-model",
                ["OUTBOUND_ALLOWED_HOSTS"] = images.HostAndPort,
            },
        });

        var result = await ExecuteAsync(cluster, "image_gen", """{"prompt":"a cat"}""");

        Assert.False(result.GetProperty("is_error").GetBoolean());
        var payload = JsonDocument.Parse(result.GetProperty("result").GetString()!).RootElement;
        Assert.Equal("https://images.example/cat.png", payload.GetProperty("images")[0].GetProperty("url").GetString());
        var call = images.Requests.Single();
        Assert.Equal("Bearer sk-image-key", call.Authorization);
        var body = JsonDocument.Parse(call.Body).RootElement;
        Assert.Equal("test-image-model", body.GetProperty("model").GetString());
        Assert.Equal("a cat", body.GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task The_admin_door_lists_tools_for_the_admin_only_and_names_unknown_tools()
    {
        await using var cluster = await GatewayCluster.StartAsync();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var list = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tools")).RootElement.GetProperty("tools");
        Assert.Contains(list.EnumerateArray(), t => t.GetProperty("name").GetString() == "web_search" && t.GetProperty("enabled").GetBoolean());

        using var user = cluster.CreateClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/v1/admin/tools")).StatusCode);

        using var unknown = await admin.PostAsync("/v1/admin/tools/execute", Json("""{"tool":"rm_rf","arguments":{}}"""));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var malformed = await admin.PostAsync("/v1/admin/tools/execute", Json("""{"arguments":{}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }
}

/// <summary>The CLI tools through the admin door: refused with guidance when CLI mode is off, working when on.</summary>
public sealed class CliToolDoorTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Cli_tools_are_refused_when_cli_mode_is_off_with_a_message_saying_how_to_enable_it()
    {
        await using var cluster = await GatewayCluster.StartAsync();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var response = await admin.PostAsync("/v1/admin/tools/execute", Json("""{"tool":"bash_execute","arguments":{"command":"id"}}"""));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("ENABLE_CLI_MODE=true", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var tools = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tools")).RootElement.GetProperty("tools");
        var bash = tools.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "bash_execute");
        Assert.False(bash.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task With_cli_mode_on_each_key_works_in_its_own_sandboxed_workspace()
    {
        var workspace = Directory.CreateTempSubdirectory("flowith2api-workspaces-").FullName;
        try
        {
            await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
            {
                ToolSettings = new Dictionary<string, string> { ["ENABLE_CLI_MODE"] = "true", ["CLI_WORKSPACE"] = workspace },
            });
            using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
            using var write = await admin.PostAsync("/v1/admin/tools/execute", Json("""{"tool":"file_write","arguments":{"path":"notes/hello.txt","content":"hello from the sandbox"}}"""));
            Assert.Equal(HttpStatusCode.OK, write.StatusCode);

            using var run = await admin.PostAsync("/v1/admin/tools/execute", Json("""{"tool":"bash_execute","arguments":{"command":"cat notes/hello.txt; ls /"}}"""));
            var result = JsonDocument.Parse(await run.Content.ReadAsStringAsync()).RootElement;
            Assert.False(result.GetProperty("is_error").GetBoolean());
            Assert.Contains("hello from the sandbox", result.GetProperty("result").GetString(), StringComparison.Ordinal);
            Assert.Single(Directory.GetDirectories(workspace)); // one workspace, for the admin key
        }
        finally
        {
            Directory.Delete(workspace, recursive: true);
        }
    }
}
