using Flowith2Api.ChatService.Upstream;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Credentials;

/// <summary>
/// The Flowith credentials this replica rotates through, round robin. (The cluster-wide, self-healing pool comes
/// with the chat core; this is its in-process seed.)
/// </summary>
public sealed class CredentialPool(IOptions<FlowithOptions> options)
{
    private int _cursor = -1;

    public int Count => options.Value.Credentials.Count;

    /// <summary>The next credential in rotation, or null when none is configured.</summary>
    public string? Next()
    {
        var credentials = options.Value.Credentials;
        if (credentials.Count == 0)
        {
            return null;
        }

        var index = (int)((uint)Interlocked.Increment(ref _cursor) % (uint)credentials.Count);
        return credentials[index];
    }
}
