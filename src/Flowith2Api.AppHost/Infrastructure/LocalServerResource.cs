namespace Flowith2Api.AppHost.Infrastructure;

/// <summary>A locally installed server (redis-server, PostgreSQL) run as an executable, with a connection string.</summary>
public sealed class LocalServerResource(string name, string command, string workingDirectory, string connectionString)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public ReferenceExpression ConnectionStringExpression { get; } = ReferenceExpression.Create($"{connectionString}");
}
