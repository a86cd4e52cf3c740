using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Flowith2Api.ServiceDefaults;

/// <summary>Names of the project's own activity source, meter and span attributes.</summary>
public static class Telemetry
{
    public const string ActivitySourceName = "Flowith2Api";
    public const string MeterName = "flowith2api";
    public const string RequestIdTag = "flowith2api.request_id";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
    public static readonly Meter Meter = new(MeterName);
}
