using ScottPlot;

namespace Flowith2Api.Bench;

/// <summary>The latency-vs-rate picture of one run: p50 and p99 of every scenario at every rate.</summary>
internal static class LatencyPlot
{
    public static void Save(IReadOnlyList<RunResult> runs, string path)
    {
        var rates = runs.Select(r => r.Rate).Distinct().Order().ToArray();
        if (rates.Length == 0)
            return;
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var index = 0;
        foreach (var scenario in runs.Select(r => r.Scenario).Distinct())
        {
            var color = palette.GetColor(index++);
            var points = rates.Select(rate => runs.FirstOrDefault(r => r.Scenario == scenario && r.Rate == rate))
                .Where(r => r is not null).Select(r => r!).ToArray();
            // Streams are measured to their first token, everything else to the end of the answer.
            double Pick(RunResult r, bool p99) => r.FirstToken.Count > 0
                ? (p99 ? r.FirstToken.P99 : r.FirstToken.P50)
                : (p99 ? r.Total.P99 : r.Total.P50);
            var xs = points.Select(r => (double)r.Rate).ToArray();
            var p99Line = plot.Add.Scatter(xs, points.Select(r => Pick(r, true)).ToArray());
            p99Line.Color = color;
            p99Line.LineWidth = 2;
            p99Line.MarkerSize = 7;
            p99Line.LegendText = scenario + " (p99)";
            var p50Line = plot.Add.Scatter(xs, points.Select(r => Pick(r, false)).ToArray());
            p50Line.Color = color;
            p50Line.LinePattern = LinePattern.Dashed;
            p50Line.MarkerSize = 4;
            p50Line.LegendText = scenario + " (p50)";
        }

        plot.Title("Latency vs offered rate (streams: time to first token)");
        plot.XLabel("requests per second (open model)");
        plot.YLabel("milliseconds from when the request was due");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. rates.Select(r => (double)r)], [.. rates.Select(r => r.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        plot.Axes.SetLimitsY(0, Math.Max(1, runs.Max(r => Math.Max(r.Total.P99, r.FirstToken.P99)) * 1.1));
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 1200, 700);
    }
}
