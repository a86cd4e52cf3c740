namespace Flowith2Api.Gateway;

public static class Program
{
    public static Task Main(string[] args) => GatewayApp.Create(args).RunAsync();
}
