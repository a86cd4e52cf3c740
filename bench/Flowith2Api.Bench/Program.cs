using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Flowith2Api.Bench;

/// <summary>
/// The gateway's own cost: <c>dotnet run -c Release --project bench/Flowith2Api.Bench -- [--quick]</c>.
/// Starts the fake Flowith (zero delay) and the product's processes from their Release builds, then drives
/// fixed-rate load against the fake directly (the floor) and through the Gateway.
/// </summary>
internal static class Program
{
    private const string ApiKey = "sk-bench";
    private const string FlowithToken = "flo-bench-token";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> Main(string[] args)
    {
        var quick = args.Contains("--quick");
        // --rates=250,500 and --streams=100,1000 narrow a run to the steps under study (an empty list skips that part).
        var rateList = ListArg(args, "--rates");
        var streamList = ListArg(args, "--streams");
        // --http1: the Gateway reaches the ChatService over HTTP/1.1 (one connection per open stream) instead of h2c.
        var http1Only = args.Contains("--http1");
        var root = FindRepoRoot();
        var configuration = typeof(Program).Assembly.Location.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}",
            StringComparison.Ordinal) ? "Release" : "Debug";
        if (configuration != "Release")
            Console.Error.WriteLine("warning: not a Release build; run with -c Release for numbers worth keeping.");
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        var ct = cts.Token;

        var secret = Convert.ToHexString(Guid.NewGuid().ToByteArray());
        // --redis: the shared state (credential pool, rate limits, sessions, key changes) in a real redis-server, as deployed.
        await using var redis = args.Contains("--redis") ? await RedisProcess.StartAsync(ct) : null;
        string[] common =
        [
            $"--INTERNAL_SECRET={secret}", "--LOG_LEVEL=warn", "--OTEL_SDK_DISABLED=true",
            .. redis is null ? Array.Empty<string>() : [$"--ConnectionStrings:redis={redis.ConnectionString}"],
        ];
        await using var fake = await ServiceProcess.StartAsync(root, "tests", "Flowith2Api.FakeFlowith", configuration,
            ["--FakeFlowith:RecordCapacity=0"], ct);
        await using var admin = await ServiceProcess.StartAsync(root, "src", "Flowith2Api.AdminService", configuration,
            [.. common, "--STORAGE_TYPE=memory", "--CREDENTIAL_ENCRYPTION_KEY=bench-credential-key", $"--FLOWITH_AUTH_TOKENS={FlowithToken}",
                $"--API_KEYS={ApiKey}"], ct);
        await using var tools = await ServiceProcess.StartAsync(root, "src", "Flowith2Api.ToolService", configuration,
            [.. common, $"--services:admin-service:http:0={admin.Uri}"], ct);
        await using var chat = await ServiceProcess.StartAsync(root, "src", "Flowith2Api.ChatService", configuration,
            [.. common, $"--FLOWITH_BASE={fake.Uri}", $"--FLOWITH_AUTH_TOKENS={FlowithToken}", "--ENABLE_MCP=false",
                $"--services:tool-service:http:0={tools.Uri}", $"--services:admin-service:http:0={admin.Uri}"], ct, http2Endpoint: !http1Only);
        await using var gateway = await ServiceProcess.StartAsync(root, "src", "Flowith2Api.Gateway", configuration,
            [.. common, $"--API_KEYS={ApiKey}", $"--services:chat-service:http:0={chat.Uri}",
                .. chat.Http2Uri is { } h2c ? [$"--services:chat-service:h2c:0={h2c}"] : Array.Empty<string>(), $"--services:tool-service:http:0={tools.Uri}",
                $"--services:admin-service:http:0={admin.Uri}"], ct);

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var scenarios = new (string Name, Func<CancellationToken, Task<Outcome>> Send)[]
        {
            ("floor: fake Flowith, non-streaming", c => Upstream(http, fake.Uri, stream: false, c)),
            ("floor: fake Flowith, streaming", c => Upstream(http, fake.Uri, stream: true, c)),
            ("OpenAI chat, non-streaming", c => OpenAi(http, gateway.Uri, stream: false, c)),
            ("OpenAI chat, streaming", c => OpenAi(http, gateway.Uri, stream: true, c)),
            ("Anthropic messages, streaming", c => Anthropic(http, gateway.Uri, c)),
        };
        // --only=<text>: just the scenarios whose name contains the text (for profiling one path).
        if (args.FirstOrDefault(a => a.StartsWith("--only=", StringComparison.Ordinal)) is { } only)
            scenarios = [.. scenarios.Where(s => s.Name.Contains(only["--only=".Length..], StringComparison.OrdinalIgnoreCase))];
        var rates = rateList ?? (quick ? [250, 500] : [250, 500, 1000, 2000]);
        var duration = TimeSpan.FromSeconds(ListArg(args, "--seconds") is [var seconds] ? seconds : quick ? 3 : 15);
        ServiceProcess[] measured = [gateway, chat];

        // Warm up every path (JIT, connection pools) before anything is measured.
        // Warm up every path (JIT tiers, connection pools) at the busiest rate before anything is measured: a cold
        // path's first seconds otherwise land in the p99 of the first step.
        foreach (var (_, send) in rates.Length == 0 ? [] : scenarios)
            await LoadRunner.RunAsync(Math.Min(rates.Max(), 1000), TimeSpan.FromSeconds(quick ? 2 : 5), send, ct);

        var results = new List<RunResult>();
        foreach (var rate in rates)
        {
            foreach (var (name, send) in scenarios)
            {
                var cpuBefore = measured.Select(p => p.CpuTime()).ToArray();
                var clock = Stopwatch.StartNew();
                var (total, first, overhead, sent, ok) = await LoadRunner.RunAsync(rate, duration, send, ct);
                var elapsed = clock.Elapsed;
                var cpu = measured.Select((p, i) => Math.Round((p.CpuTime() - cpuBefore[i]).TotalSeconds / elapsed.TotalSeconds * 100, 1)).ToArray();
                var result = new RunResult(name, rate, sent, ok, Math.Round(100.0 * ok / Math.Max(1, sent), 2), total.Summarise(),
                    first.Summarise(), overhead.Summarise(), gateway.ResidentBytes() / 1024 / 1024, chat.ResidentBytes() / 1024 / 1024, cpu[0], cpu[1]);
                results.Add(result);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{rate,5}/s  {name,-36} ok {result.SuccessPercent,6}%  p50 {result.Total.P50,8} p99 {result.Total.P99,8} max {result.Total.Max,8} ms  ttft p99 {result.FirstToken.P99,8}"));
            }
        }

        // Open streams held at once against a slow upstream: 20 chunks, one every chunkDelay.
        var chunkDelay = quick ? 200 : 1000;
        using (var slow = await http.PostAsync(new Uri(fake.Uri, "_fake/default-scenario"),
            new StringContent($"text=The quick brown fox jumps over the dog;chunk=2;delay={chunkDelay}", Encoding.UTF8, "text/plain"), ct))
        {
            slow.EnsureSuccessStatusCode();
        }

        var held = new List<OpenStreamsResult>();
        foreach (var streams in streamList ?? (quick ? [100, 1000] : [100, 1000, 10_000]))
        {
            var result = await OpenStreams.HoldAsync(http, gateway.Uri, ApiKey, streams, quick ? 500 : 1000, gateway, chat, ct);
            held.Add(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{streams,6} open streams  ok {result.SuccessPercent,6}%  ttft p99 {result.FirstToken.P99,8} ms  Gateway {result.GatewayBaselineMiB}->{result.GatewayHeldMiB} MiB  ChatService {result.ChatServiceBaselineMiB}->{result.ChatServiceHeldMiB} MiB  {result.KiBPerStream} KiB/stream"));
        }

        var outDir = Path.Combine(root, "bench", "results");
        Directory.CreateDirectory(outDir);
        var partial = rateList is not null || streamList is not null || args.Any(a => a.StartsWith("--only=", StringComparison.Ordinal)
            || a.StartsWith("--seconds=", StringComparison.Ordinal) || a == "--http1");
        var variant = redis is null ? "" : "-redis";
        var stamp = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HHmm", CultureInfo.InvariantCulture) + variant + (quick ? "-quick" : "") + (partial ? "-partial" : "");
        var report = new Report(DateTime.UtcNow, Environment.MachineName, Environment.ProcessorCount, configuration, quick, redis is not null,
            results, held);
        await File.WriteAllTextAsync(Path.Combine(outDir, stamp + ".json"),
            JsonSerializer.Serialize(report, Indented), ct);
        await File.WriteAllTextAsync(Path.Combine(outDir, stamp + ".md"), Markdown(report, stamp + ".png"), ct);
        LatencyPlot.Save(results, Path.Combine(outDir, stamp + ".png"));
        Console.WriteLine($"wrote bench/results/{stamp}.json, .md and .png");
        return results.All(r => r.SuccessPercent == 100) && held.All(h => h.SuccessPercent == 100) ? 0 : 1;
    }

    private static async Task<Outcome> Upstream(HttpClient http, Uri fake, bool stream, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(fake, "external/use/knowledge-base/seek"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FlowithToken);
        request.Content = Json($$"""{"model":"gpt-4.1-mini","stream":{{(stream ? "true" : "false")}},"kb_list":[],"messages":[{"role":"user","content":"Say hello."}]}""");
        return await ReadAsync(http, request, stream ? "data:" : null, ct);
    }

    private static async Task<Outcome> OpenAi(HttpClient http, Uri gateway, bool stream, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "v1/chat/completions"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        request.Content = Json($$"""{"model":"gpt-4.1-mini","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say hello."}]}""");
        return await ReadAsync(http, request, stream ? "\"content\":\"" : null, ct);
    }

    private static async Task<Outcome> Anthropic(HttpClient http, Uri gateway, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "v1/messages"));
        request.Headers.Add("x-api-key", ApiKey);
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Content = Json("""{"model":"claude-4-sonnet","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Say hello."}]}""");
        return await ReadAsync(http, request, "content_block_delta", ct);
    }

    /// <summary>Reads the whole answer; with <paramref name="firstTokenMarker"/>, notes when the first line holding it arrived.</summary>
    private static async Task<Outcome> ReadAsync(HttpClient http, HttpRequestMessage request, string? firstTokenMarker, CancellationToken ct)
    {
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        double? overhead = response.Headers.TryGetValues("x-gateway-overhead-ms", out var values)
            && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) ? ms : null;
        long firstToken = 0;
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        if (firstTokenMarker is null)
        {
            await body.CopyToAsync(Stream.Null, ct);
            return new Outcome(response.IsSuccessStatusCode, 0, overhead);
        }

        using var reader = new StreamReader(body, Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (firstToken == 0 && line.Contains(firstTokenMarker, StringComparison.Ordinal) && !line.Contains("\"content\":\"\"", StringComparison.Ordinal))
                firstToken = Stopwatch.GetTimestamp();
        }

        return new Outcome(response.IsSuccessStatusCode && firstToken != 0, firstToken, overhead);
    }

    private static int[]? ListArg(string[] args, string name) =>
        args.FirstOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal)) is { } arg
            ? [.. arg[(name.Length + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture))]
            : null;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Markdown(Report report, string plotFile)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Flowith2Api benchmark, {report.Date:yyyy-MM-dd HH:mm} UTC ({(report.Quick ? "quick" : "full")})");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{report.Cpus} CPUs, {report.Configuration} build, shared state {(report.Redis ? "in Redis" : "in process")}. Latencies in ms from when each request was due (open model).");
        md.AppendLine();
        md.AppendLine("| rate/s | scenario | success % | p50 | p90 | p99 | max | TTFT p50 | TTFT p99 | overhead p50 | overhead p99 | added p99 | Gateway MiB / CPU % | ChatService MiB / CPU % |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in report.Runs)
        {
            var floor = report.Runs.FirstOrDefault(f => f.Rate == r.Rate && f.Scenario.StartsWith("floor", StringComparison.Ordinal)
                && f.Scenario.EndsWith(r.Scenario.EndsWith("non-streaming", StringComparison.Ordinal) ? "non-streaming" : ", streaming", StringComparison.Ordinal));
            var added = r.Scenario.StartsWith("floor", StringComparison.Ordinal) || floor is null ? "" : Fmt(r.Total.P99 - floor.Total.P99);
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Rate} | {r.Scenario} | {r.SuccessPercent} | {r.Total.P50} | {r.Total.P90} | {r.Total.P99} | {r.Total.Max} | {r.FirstToken.P50} | {r.FirstToken.P99} | {r.Overhead.P50} | {r.Overhead.P99} | {added} | {r.GatewayMiB} / {r.GatewayCpuPercent} | {r.ChatServiceMiB} / {r.ChatServiceCpuPercent} |");
        }

        md.AppendLine();
        if (report.Runs.Count > 0)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"![latency vs rate]({plotFile})");
            md.AppendLine();
        }

        md.AppendLine("Open streams held at once (slow upstream), resident memory of the Gateway and ChatService before and while held:");
        md.AppendLine();
        md.AppendLine("| streams | success % | TTFT p50 | TTFT p99 | Gateway MiB | ChatService MiB | KiB per open stream |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var h in report.OpenStreams)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {h.Streams} | {h.SuccessPercent} | {h.FirstToken.P50} | {h.FirstToken.P99} | {h.GatewayBaselineMiB} → {h.GatewayHeldMiB} | {h.ChatServiceBaselineMiB} → {h.ChatServiceHeldMiB} | {h.KiBPerStream} |");
        }

        return md.ToString();
    }

    private static string Fmt(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flowith2Api.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException("Run the bench from inside the Flowith2Api repository.");
    }
}

internal sealed record RunResult(string Scenario, int Rate, long Sent, long Ok, double SuccessPercent, Summary Total, Summary FirstToken,
    Summary Overhead, long GatewayMiB, long ChatServiceMiB, double GatewayCpuPercent, double ChatServiceCpuPercent);

internal sealed record Report(DateTime Date, string Machine, int Cpus, string Configuration, bool Quick, bool Redis, IReadOnlyList<RunResult> Runs,
    IReadOnlyList<OpenStreamsResult> OpenStreams);
