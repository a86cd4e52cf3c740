using Flowith2Api.AppHost;
using Flowith2Api.AppHost.Infrastructure;
using Flowith2Api.ServiceDefaults;

var settings = AppHostSettings.FromArgs(ref args);
var builder = DistributedApplication.CreateBuilder(args);
settings.ReadConfiguration(builder.Configuration);

var infrastructure = InfrastructureSelector.Add(builder, settings);
var secrets = SecretParameters.Add(builder, settings);

var admin = builder.AddService<Projects.Flowith2Api_AdminService>("admin-service", secrets, infrastructure.Redis, infrastructure.AdminDb)
    .WithEnvironment(SeedSettings.FlowithAuthTokens, secrets.FlowithAuthTokens)
    .WithEnvironment(SeedSettings.ApiKeys, secrets.ApiKeys)
    .WithEnvironment(SeedSettings.AdminKey, secrets.AdminKey)
    .WithEnvironment("CREDENTIAL_ENCRYPTION_KEY", secrets.CredentialEncryptionKey);
var publishing = builder.ExecutionContext.IsPublishMode;
if (!publishing && string.IsNullOrEmpty(builder.Configuration[SeedSettings.DataPath]) && string.IsNullOrEmpty(builder.Configuration[SeedSettings.SqlitePath]))
{
    // Without PostgreSQL the AdminService keeps its SQLite file with the rest of the data.
    admin.WithEnvironment(SeedSettings.DataPath, Path.Combine(settings.ResolveDataDirectory(builder.AppHostDirectory), "flowith.db"));
}

var tools = builder.AddService<Projects.Flowith2Api_ToolService>("tool-service", secrets, infrastructure.Redis)
    .WithEnvironment("CLI_WORKSPACE", publishing ? "/var/lib/flowith2api/workspace" : Path.Combine(settings.ResolveDataDirectory(builder.AppHostDirectory), "workspace"))
    .WithReference(admin).WaitFor(admin);
foreach (var (name, parameter) in secrets.ToolSecrets)
{
    tools.WithEnvironment(name, parameter);
}

var chat = builder.AddService<Projects.Flowith2Api_ChatService>("chat-service", secrets, infrastructure.Redis)
    .WithEnvironment(SeedSettings.FlowithAuthTokens, secrets.FlowithAuthTokens)
    .WithHttp2Endpoint(builder.ExecutionContext.IsPublishMode)
    .WithReference(tools)
    .WithReference(admin).WaitFor(admin);

if (settings.FakeUpstream)
{
    var fake = builder.AddProject<Projects.Flowith2Api_FakeFlowith>("fake-flowith", launchProfileName: null)
        .WithHttpEndpoint(name: "http")
        .WithHttpHealthCheck("/health");
    chat.WithEnvironment(SeedSettings.FlowithBase, fake.GetEndpoint("http")).WaitFor(fake);
}

var gateway = builder.AddProject<Projects.Flowith2Api_Gateway>("gateway", launchProfileName: null)
    .WithHttpEndpoint(port: settings.GatewayPort, name: "http", isProxied: false)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health")
    .WithShutdownTiming(publishing, drainSeconds: 110)
    .WithEnvironment(SeedSettings.InternalSecret, secrets.InternalSecret)
    .WithEnvironment(SeedSettings.ApiKeys, secrets.ApiKeys)
    .WithEnvironment(SeedSettings.AdminKey, secrets.AdminKey)
    .WithSeedEnvironment(builder.Configuration)
    .WithReference(chat).WaitFor(chat)
    .WithReference(tools).WaitFor(tools)
    .WithReference(admin).WaitFor(admin)
    .WithUrls(urls =>
    {
        // The web console, one click from the dashboard.
        if (urls.Urls.FirstOrDefault(u => u.Endpoint?.EndpointName == "http") is { } http)
        {
            urls.Urls.Add(new ResourceUrlAnnotation { Url = new Uri(new Uri(http.Url), "/admin").ToString(), DisplayText = "Web console", Endpoint = http.Endpoint });
        }
    })
    .WithReadyBanner(builder.Configuration);
if (infrastructure.Redis is { } redis)
{
    // Key changes and per-key rate limits are shared through Redis.
    gateway.WithReference(redis.Resource, redis.ConnectionName).WaitFor(redis.Resource);
}

builder.Build().Run();
