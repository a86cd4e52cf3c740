using System.Text.Json.Serialization;

namespace Flowith2Api.Contracts;

/// <summary>
/// What one ChatService replica counted since its last report, as it sends it to the AdminService when no Redis is
/// configured (embedded mode; <c>POST /internal/stats</c>): the same counters and latency buckets it would add to
/// Redis, and its open streams and cooling credentials at the moment of the report.
/// </summary>
public sealed record StatsReport(
    [property: JsonPropertyName("replica")] string Replica,
    [property: JsonPropertyName("counters")] Dictionary<string, long> Counters,
    [property: JsonPropertyName("latency")] Dictionary<int, long> Latency,
    [property: JsonPropertyName("ttft")] Dictionary<int, long> TimeToFirstToken,
    [property: JsonPropertyName("active_streams")] long ActiveStreams,
    [property: JsonPropertyName("cooling")] int Cooling)
{
    public const string Path = "/internal/stats";
}

[JsonSerializable(typeof(StatsReport))]
public sealed partial class StatsReportJsonContext : JsonSerializerContext;
