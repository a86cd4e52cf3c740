using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;

namespace Flowith2Api.Tests.Gateway;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c>: the admin key reads it (no one else), it parses and validates as
/// OpenAPI, its paths are exactly the public and admin endpoints the services map, it names our extensions, and what a
/// real answer holds is what it describes.
/// </summary>
[Collection(GatewayClusterCollection.Name)]
public sealed partial class OpenApiDocumentTests(GatewayClusterFixture fixture)
{
    private GatewayCluster Cluster => fixture.Cluster;

    private async Task<(string Raw, JsonElement Root)> DocumentAsync()
    {
        using var admin = Cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var response = await admin.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var raw = await response.Content.ReadAsStringAsync();
        return (raw, JsonDocument.Parse(raw).RootElement.Clone());
    }

    [Fact]
    public async Task Only_the_admin_key_reads_the_document()
    {
        using var anonymous = Cluster.CreateClient(apiKey: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/openapi/v1.json")).StatusCode);
        using var user = Cluster.CreateClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/openapi/v1.json")).StatusCode);
        await DocumentAsync();
    }

    [Fact]
    public async Task The_document_parses_and_validates_as_openapi()
    {
        var (raw, root) = await DocumentAsync();
        var read = Microsoft.OpenApi.OpenApiDocument.Parse(raw, "json");
        Assert.NotNull(read.Document);
        Assert.True(read.Diagnostic is null || read.Diagnostic.Errors.Count == 0,
            string.Join("\n", read.Diagnostic?.Errors.Select(e => $"{e.Pointer}: {e.Message}") ?? []));
        Assert.StartsWith("3.", root.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.Equal("Flowith2Api", root.GetProperty("info").GetProperty("title").GetString());
        Assert.True(root.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("bearer", out _));
    }

    [Fact]
    public async Task Its_paths_are_exactly_the_public_and_admin_endpoints_the_services_map()
    {
        var (_, root) = await DocumentAsync();
        var documented = root.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => $"{op.Name.ToUpperInvariant()} {path.Name}"))
            .ToHashSet(StringComparer.Ordinal);

        var mapped = Cluster.Apps.Where(app => !ReferenceEquals(app.Services, Cluster.GatewayServices))
            .SelectMany(app => ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints))
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } text && text.StartsWith("/v1/", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? [])
                .Select(method => $"{method} {Normalize(e.RoutePattern.RawText!)}"))
            .ToHashSet(StringComparer.Ordinal);

        Assert.True(mapped.Count > 30, string.Join(", ", mapped)); // the services were found
        Assert.Empty(mapped.Except(documented).Order());
        Assert.Empty(documented.Except(mapped).Order());
    }

    /// <summary>A route template as OpenAPI writes it: no constraints, no catch-all stars.</summary>
    private static string Normalize(string template) => RouteParameter().Replace(template.TrimEnd('/'), match => "{" + match.Groups["name"].Value + "}");

    [GeneratedRegex(@"\{\**(?<name>[A-Za-z_]+)(:[^}]*)?\}")]
    private static partial Regex RouteParameter();

    [Fact]
    public async Task Our_extensions_are_described()
    {
        var (_, root) = await DocumentAsync();
        foreach (var path in new[] { "/v1/chat/completions", "/v1/messages" })
        {
            var post = root.GetProperty("paths").GetProperty(path).GetProperty("post");
            Assert.Contains(post.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "x-session-id" && p.GetProperty("in").GetString() == "header");
            var request = Resolve(root, post.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
            Assert.True(request.GetProperty("properties").TryGetProperty("session_id", out _), path);
            Assert.True(request.GetProperty("properties").TryGetProperty("auto_session", out _), path);
        }

        var completion = ResponseSchema(root, "/v1/chat/completions");
        var message = Resolve(root, Resolve(root, Resolve(root, completion.GetProperty("properties").GetProperty("choices")).GetProperty("items"))
            .GetProperty("properties").GetProperty("message"));
        Assert.Contains("thinking", message.GetProperty("properties").GetProperty("reasoning_content").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(completion.GetProperty("properties").TryGetProperty("session_id", out _));
    }

    [Fact]
    public async Task A_real_answer_holds_only_what_the_document_describes()
    {
        var (_, root) = await DocumentAsync();
        using var http = Cluster.CreateClient();

        using var chat = await http.PostAsync("/v1/chat/completions", Json("""
            {"model":"flowith","auto_session":true,"messages":[{"role":"user","content":"[[fake:text=%3Cthink%3Ehm%3C%2Fthink%3EHello]] go"}]}
            """));
        var answer = JsonDocument.Parse(await chat.Content.ReadAsStringAsync()).RootElement;
        var completion = ResponseSchema(root, "/v1/chat/completions");
        AssertDescribed(root, completion, answer, "chat.completion");
        var choices = Resolve(root, Resolve(root, completion.GetProperty("properties").GetProperty("choices")).GetProperty("items"));
        AssertDescribed(root, choices, answer.GetProperty("choices")[0], "choice");
        AssertDescribed(root, Resolve(root, choices.GetProperty("properties").GetProperty("message")), answer.GetProperty("choices")[0].GetProperty("message"), "message");
        AssertDescribed(root, Resolve(root, completion.GetProperty("properties").GetProperty("usage")), answer.GetProperty("usage"), "usage");
        Assert.Equal("hm", answer.GetProperty("choices")[0].GetProperty("message").GetProperty("reasoning_content").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = Json("""{"model":"claude-sonnet-4","max_tokens":100,"auto_session":true,"messages":[{"role":"user","content":"hi"}]}"""),
        };
        request.Headers.Add("anthropic-version", "2023-06-01");
        using var messages = await http.SendAsync(request);
        var anthropic = JsonDocument.Parse(await messages.Content.ReadAsStringAsync()).RootElement;
        var described = ResponseSchema(root, "/v1/messages");
        AssertDescribed(root, described, anthropic, "message");
        AssertDescribed(root, Resolve(root, described.GetProperty("properties").GetProperty("usage")), anthropic.GetProperty("usage"), "usage");
        AssertDescribed(root, Resolve(root, Resolve(root, described.GetProperty("properties").GetProperty("content")).GetProperty("items")),
            anthropic.GetProperty("content")[0], "content block");
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static JsonElement ResponseSchema(JsonElement root, string path) =>
        Resolve(root, root.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("responses").GetProperty("200")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema"));

    private static void AssertDescribed(JsonElement root, JsonElement schema, JsonElement value, string what)
    {
        var properties = Resolve(root, schema).GetProperty("properties");
        foreach (var field in value.EnumerateObject())
        {
            Assert.True(properties.TryGetProperty(field.Name, out _), $"the {what} has '{field.Name}', which the document does not describe");
        }
    }

    /// <summary>A schema, following <c>$ref</c>s into the components (and into a nullable's <c>oneOf</c>/<c>anyOf</c>).</summary>
    private static JsonElement Resolve(JsonElement root, JsonElement schema)
    {
        for (var i = 0; i < 10; i++)
        {
            if (schema.TryGetProperty("$ref", out var reference))
            {
                var name = reference.GetString()!.Split('/')[^1];
                schema = root.GetProperty("components").GetProperty("schemas").GetProperty(name);
            }
            else if (!schema.TryGetProperty("properties", out _) && !schema.TryGetProperty("items", out _)
                && (schema.TryGetProperty("oneOf", out var alternatives) || schema.TryGetProperty("anyOf", out alternatives)))
            {
                schema = alternatives.EnumerateArray().First(a => a.TryGetProperty("$ref", out _) || a.TryGetProperty("properties", out _) || a.TryGetProperty("items", out _));
            }
            else
            {
                return schema;
            }
        }

        return schema;
    }
}
