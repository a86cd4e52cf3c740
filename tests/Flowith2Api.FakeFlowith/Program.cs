namespace Flowith2Api.FakeFlowith;

/// <summary>
/// Runs the fake Flowith upstream as a process:
/// <c>dotnet run --project tests/Flowith2Api.FakeFlowith --urls http://127.0.0.1:9000</c>.
/// Configuration: <c>FakeFlowith:*</c> keys (see <see cref="FakeFlowithOptions"/>) and
/// <c>FAKE_FLOWITH_DEFAULT_SCENARIO</c>.
/// </summary>
internal static class Program
{
    public static async Task Main(string[] args)
    {
        await using var app = FakeFlowithApp.Create(args);
        await app.RunAsync();
    }
}
