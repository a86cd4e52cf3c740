using System.ComponentModel.DataAnnotations;

namespace Flowith2Api.Gateway;

/// <summary>The Gateway's own limits.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Largest request body accepted (images arrive base64-encoded, so this is generous).</summary>
    [Range(1024, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// How long a forwarded chat or tool call may stay silent between two reads or writes. The ChatService keeps
    /// streams alive and enforces the upstream timeouts itself; this only catches a hung hop.
    /// </summary>
    public TimeSpan StreamActivityTimeout { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan AdminActivityTimeout { get; set; } = TimeSpan.FromMinutes(2);
}
