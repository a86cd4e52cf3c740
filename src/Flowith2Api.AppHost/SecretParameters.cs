using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.AppHost;

/// <summary>
/// The secrets, as Aspire secret parameters (masked in the dashboard, inputs in the manifest). Their values come
/// from the original project's environment variables, so <c>FLOWITH_AUTH_TOKENS=… dotnet run</c> just works.
/// </summary>
public sealed record SecretParameters(
    IResourceBuilder<ParameterResource> FlowithAuthTokens,
    IResourceBuilder<ParameterResource> ApiKeys,
    IResourceBuilder<ParameterResource> AdminKey,
    IResourceBuilder<ParameterResource> InternalSecret,
    IResourceBuilder<ParameterResource> CredentialEncryptionKey,
    IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> ToolSecrets)
{
    /// <summary>Demo credentials for the fake upstream when none are configured.</summary>
    public const string FakeUpstreamDemoTokens = "flo_demo_credential_one,flo_demo_credential_two";

    public static SecretParameters Add(IDistributedApplicationBuilder builder, AppHostSettings settings)
    {
        var config = builder.Configuration;
        var tokens = config[SeedSettings.FlowithAuthTokens];
        if (string.IsNullOrWhiteSpace(tokens) && settings.FakeUpstream)
        {
            tokens = FakeUpstreamDemoTokens;
        }

        return new SecretParameters(
            builder.AddParameter("flowith-auth-tokens", tokens ?? "", secret: true),
            builder.AddParameter("api-keys", config[SeedSettings.ApiKeys] ?? "", secret: true),
            builder.AddParameter("admin-key", config[SeedSettings.AdminKey] ?? "", secret: true),
            builder.AddParameter("internal-secret", new GenerateParameterDefault { MinLength = 40, Special = false }, secret: true),
            // Credentials are encrypted with it at rest, so it must outlive a run: generated once, kept in user secrets.
            config["CREDENTIAL_ENCRYPTION_KEY"] is { Length: > 0 } key
                ? builder.AddParameter("credential-encryption-key", key, secret: true)
                : builder.AddParameter("credential-encryption-key", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true),
            SeedSettings.ToolSecrets.ToDictionary(name => name,
                name => builder.AddParameter(name.ToLowerInvariant().Replace('_', '-'), config[name] ?? "", secret: true)));
    }
}
