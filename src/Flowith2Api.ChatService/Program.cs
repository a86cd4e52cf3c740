namespace Flowith2Api.ChatService;

public static class Program
{
    public static Task Main(string[] args) => ChatServiceApp.Create(args).RunAsync();
}
