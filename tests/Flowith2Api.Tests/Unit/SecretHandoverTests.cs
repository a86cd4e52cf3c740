using System.Collections;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.Tests.Unit;

public sealed class SecretHandoverTests
{
    [Fact]
    public void Secrets_are_taken_from_the_environment_and_every_command_line_form_and_nothing_else_is()
    {
        var environment = new Hashtable
        {
            ["INTERNAL_SECRET"] = "s1",
            ["ConnectionStrings__redis"] = "s2",
            ["IMAGE_API_KEY"] = "s3",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "x-otlp-api-key=s4",
            ["REDIS_PASSWORD"] = "s10",
            ["REDIS_URI"] = "redis://:s11@redis:6379",
            ["ASPNETCORE_CREDENTIAL_ENCRYPTION_KEY"] = "s12",
            ["CUSTOMCONNSTR_reports"] = "s13",
            ["CLI_WORKSPACE"] = "/data/workspace",
            ["PATH"] = "/usr/bin",
        };
        string[] args = ["--urls=http://127.0.0.1:1", "--ADMIN_KEY=s5", "/API_KEYS=s6", "FLOWITH_AUTH_TOKENS=s7", "--MCP_SERVERS", "s8",
            "--ConnectionStrings:admindb=s9", "/POSTGRES_PASSWORD", "s14", "--LOG_LEVEL", "warn"];

        var (secrets, rest, arguments) = SecretHandover.Split(environment, args);

        var expected = new Dictionary<string, string>
        {
            ["INTERNAL_SECRET"] = "s1",
            ["ConnectionStrings:redis"] = "s2",
            ["IMAGE_API_KEY"] = "s3",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "x-otlp-api-key=s4",
            ["REDIS_PASSWORD"] = "s10",
            ["REDIS_URI"] = "redis://:s11@redis:6379",
            ["CREDENTIAL_ENCRYPTION_KEY"] = "s12",
            ["ConnectionStrings:reports"] = "s13",
            ["ADMIN_KEY"] = "s5",
            ["API_KEYS"] = "s6",
            ["FLOWITH_AUTH_TOKENS"] = "s7",
            ["MCP_SERVERS"] = "s8",
            ["ConnectionStrings:admindb"] = "s9",
            ["POSTGRES_PASSWORD"] = "s14",
        };
        Assert.Equal(expected.OrderBy(p => p.Key), secrets.OrderBy(p => p.Key));
        Assert.Equal(["CLI_WORKSPACE", "PATH"], rest.Keys.Order());
        Assert.Equal(["--urls=http://127.0.0.1:1", "--LOG_LEVEL", "warn"], arguments);
    }

    [Fact]
    public void Without_a_handover_nothing_is_added_to_the_configuration()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder();
        SecretHandover.AddTo(configuration);
        Assert.Empty(SecretHandover.Received);
        Assert.Empty(configuration.Sources);
    }
}
