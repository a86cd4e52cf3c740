using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Upstream;

/// <summary>Where and how the Flowith upstream is called (SPEC section 2: upstream, timeouts, retries).</summary>
public sealed class FlowithOptions
{
    public const string DefaultOrigin = "https://edge.flowith.net";
    public const string SeekPath = "/external/use/knowledge-base/seek";
    public const string ModelsPath = "/external/use/knowledge-base/models";

    /// <summary>The origin: FLOWITH_BASE (trailing slash removed), else https://{FLOWITH_REGION}.edge.flowith.net, else the default.</summary>
    [Required]
    public Uri Origin { get; set; } = new(DefaultOrigin);

    /// <summary>HTTP proxy for upstream calls only (PROXY_URL).</summary>
    public Uri? Proxy { get; set; }

    public IReadOnlyList<string> Credentials { get; set; } = [];

    [Range(100, 3_600_000)]
    public int HeadersTimeoutMs { get; set; } = 25_000;

    [Range(100, 3_600_000)]
    public int BodyTimeoutMs { get; set; } = 30_000;

    [Range(100, 3_600_000)]
    public int StreamIdleTimeoutMs { get; set; } = 15_000;

    [Range(100, 86_400_000)]
    public int StreamTotalTimeoutMs { get; set; } = 180_000;

    /// <summary>The seek endpoint under the origin (a path in FLOWITH_BASE is kept).</summary>
    public Uri SeekUri => new(Origin.AbsoluteUri.TrimEnd('/') + SeekPath);

    public Uri ModelsUri => new(Origin.AbsoluteUri.TrimEnd('/') + ModelsPath);

    /// <summary>Reads the seed's environment variable names (one place, SPEC section 2).</summary>
    public static void Bind(FlowithOptions options, IConfiguration configuration)
    {
        options.Origin = ResolveOrigin(configuration[SeedSettings.FlowithBase], configuration[SeedSettings.FlowithRegion]);
        var proxy = configuration[SeedSettings.ProxyUrl];
        options.Proxy = string.IsNullOrWhiteSpace(proxy) ? null : new Uri(proxy.Trim(), UriKind.Absolute);
        options.Credentials = SeedSettings.SplitList(configuration[SeedSettings.FlowithAuthTokens]);
        options.HeadersTimeoutMs = ReadInt(configuration, SeedSettings.UpstreamTimeoutMs, options.HeadersTimeoutMs);
        options.BodyTimeoutMs = ReadInt(configuration, SeedSettings.UpstreamBodyTimeoutMs, options.BodyTimeoutMs);
        options.StreamIdleTimeoutMs = ReadInt(configuration, SeedSettings.StreamIdleTimeoutMs, options.StreamIdleTimeoutMs);
        options.StreamTotalTimeoutMs = ReadInt(configuration, SeedSettings.StreamTotalTimeoutMs, options.StreamTotalTimeoutMs);
    }

    public static Uri ResolveOrigin(string? flowithBase, string? region)
    {
        if (!string.IsNullOrWhiteSpace(flowithBase))
        {
            var trimmed = flowithBase.Trim().TrimEnd('/');
            if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new OptionsValidationException(nameof(FlowithOptions), typeof(FlowithOptions),
                    [$"{SeedSettings.FlowithBase} must be an absolute http(s) URL."]);
            }

            return uri;
        }

        if (!string.IsNullOrWhiteSpace(region))
        {
            return new Uri($"https://{region.Trim()}.edge.flowith.net");
        }

        return new Uri(DefaultOrigin);
    }

    private static int ReadInt(IConfiguration configuration, string key, int fallback) =>
        int.TryParse(configuration[key], out var value) ? value : fallback;
}
