namespace Flowith2Api.ToolService;

public static class Program
{
    public static Task Main(string[] args) => ToolServiceApp.Create(args).RunAsync();
}
