using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.ToolService;

public static class Program
{
    public static Task Main(string[] args)
    {
        // The process that runs tools keeps no secret in its environment or command line: it executes itself again
        // without them and reads them from a descriptor it closes at once.
        SecretHandover.SealProcess(args);
        return ToolServiceApp.Create(args).RunAsync();
    }
}
