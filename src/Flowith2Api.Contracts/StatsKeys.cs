namespace Flowith2Api.Contracts;

/// <summary>
/// Where cluster-wide statistics live in Redis, and the latency histogram both sides agree on: log-scale buckets
/// (each 20 % wider than the last, from 0.1 ms), so percentiles are read to within about 10 %.
/// </summary>
public static class StatsKeys
{
    public const int BucketCount = 128;
    private const double First = 0.1;
    private static readonly double Growth = Math.Log(1.2);

    public static string Counters(string prefix) => prefix + "stats:counters";

    public static string Latency(string prefix) => prefix + "stats:latency";

    public static string TimeToFirstToken(string prefix) => prefix + "stats:ttft";

    public static string Since(string prefix) => prefix + "stats:since";

    public static string ActiveStreams(string prefix, string replica) => prefix + "stats:active:" + replica;

    public static string ActiveStreamsPattern(string prefix) => prefix + "stats:active:*";

    public static int Bucket(double milliseconds) =>
        milliseconds <= First ? 0 : Math.Clamp((int)Math.Ceiling(Math.Log(milliseconds / First) / Growth), 0, BucketCount - 1);

    public static double UpperBound(int bucket) => First * Math.Exp(Growth * bucket);

    /// <summary>The value below which <paramref name="quantile"/> of the counted samples fall.</summary>
    public static double? Percentile(IReadOnlyDictionary<int, long> counts, double quantile)
    {
        var total = counts.Values.Sum();
        if (total == 0)
        {
            return null;
        }

        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        foreach (var (bucket, count) in counts.OrderBy(c => c.Key))
        {
            seen += count;
            if (seen >= rank)
            {
                return Math.Round(UpperBound(bucket), 2);
            }
        }

        return Math.Round(UpperBound(counts.Keys.Max()), 2);
    }
}
