namespace Flowith2Api.AdminService;

public static class Program
{
    public static Task Main(string[] args) => AdminServiceApp.Create(args).RunAsync();
}
