using Flowith2Api.Gateway.Auth;
using Flowith2Api.Gateway.Proxy;
using Flowith2Api.ServiceDefaults;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Flowith2Api.Tests.Gateway;

/// <summary>The edge stays on ASP.NET's pieces and small enough to read: what the route table and the files hold.</summary>
public sealed class EdgeShapeTests
{
    [Fact]
    public void Every_route_names_its_authorization_policy_and_only_the_sign_in_page_and_assets_are_open()
    {
        string[] policies = [EdgeAuth.UserPolicy, EdgeAuth.AdminPolicy, EdgeAuth.ConsolePolicy, "anonymous"];
        Assert.All(GatewayRoutes.Routes, route => Assert.Contains(route.AuthorizationPolicy, policies));
        var open = GatewayRoutes.Routes.Where(r => r.AuthorizationPolicy == "anonymous").Select(r => r.Match.Path).Order().ToList();
        Assert.Equal(["/admin/assets/{**rest}", "/admin/login"], open);
        Assert.All(GatewayRoutes.Routes.Where(r => r.Match.Path!.StartsWith("/v1/admin", StringComparison.Ordinal)),
            route => Assert.Equal(EdgeAuth.AdminPolicy, route.AuthorizationPolicy));
    }

    [Fact]
    public void No_file_of_the_gateway_is_longer_than_200_lines()
    {
        var gateway = Path.Combine(TestEnvironment.RepositoryRoot, "src", "Flowith2Api.Gateway");
        var files = Directory.EnumerateFiles(gateway, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(files);
        var tooLong = files.Select(f => (File: Path.GetRelativePath(gateway, f), Lines: File.ReadLines(f).Count())).Where(f => f.Lines > 200).ToList();
        Assert.True(tooLong.Count == 0, string.Join(", ", tooLong.Select(f => $"{f.File}: {f.Lines} lines")));
    }

    [Theory]
    [InlineData("localhost:6379", null, "localhost:6379")]
    [InlineData(null, "redis://cache:6380", "cache:6380")]
    [InlineData(null, "redis://:s3cret@cache:6379/2", "cache:6379,password=s3cret,defaultDatabase=2")]
    [InlineData(null, "rediss://user:p%40ss@cache:6379", "cache:6379,password=p@ss,ssl=true")]
    [InlineData("named:1", "redis://ignored:2", "named:1")]
    [InlineData(null, null, null)]
    public void Redis_is_read_from_the_aspire_connection_string_or_the_original_redis_url(string? connectionString, string? redisUrl, string? expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = connectionString,
            [SeedSettings.RedisUrl] = redisUrl,
        }).Build();
        Assert.Equal(expected, RedisConnection.ConnectionStringOf(configuration));
    }
}
