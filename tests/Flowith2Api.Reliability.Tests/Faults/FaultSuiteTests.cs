using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Reliability.Tests.Faults;

/// <summary>
/// Concurrent traffic through the Gateway while things break: every upstream failure mode in rotation, Redis
/// restarted, a ChatService replica killed, hundreds of clients walking away mid-stream, a client reading very slowly.
/// For each, the counts go to artifacts/reliability/ (docs/reliability.md) and the promises are checked: nothing
/// hangs, no 500 from our own code, no stream cut off without its ending, no acknowledged session turn lost.
/// </summary>
public sealed class FaultSuiteTests
{
    private const string Tokens = "flo_fault_suite_a_0001,flo_fault_suite_b_0002,flo_fault_suite_c_0003";

    private static readonly Dictionary<string, string> FastTimeouts = new()
    {
        ["UPSTREAM_TIMEOUT_MS"] = "1500",
        ["STREAM_IDLE_TIMEOUT_MS"] = "1500",
        ["UPSTREAM_BODY_TIMEOUT_MS"] = "3000",
        ["UPSTREAM_RETRY_MAX"] = "2",
    };

    /// <summary>The fake upstream's failure modes, one after another (401/403 are left out: they disable credentials for good).</summary>
    private static readonly string[] FailureModes =
    [
        "", "status=429;retry-after=1", "status=500", "status=502", "status=503", "empty", "empty-body", "stall-before-headers=4000",
        "stall-after=2;stall=4000", "reset-after=2", "delay=30", "think;text=%3Cthink%3Ehmm%3C%2Fthink%3Eok", "keepalive", "crlf;split",
    ];

    private static void AssertPromises(LoadResult result, bool allowCutOff = false)
    {
        Assert.True(result.Sent > 0, result.ToString());
        Assert.True(result.Hung == 0, "hung: " + result);
        Assert.True(result.OwnServerErrors == 0, "500s from our code: " + result);
        if (!allowCutOff)
        {
            Assert.True(result.CutOff == 0, "cut off: " + result);
        }
    }

    [Fact]
    public async Task Every_upstream_failure_mode_in_rotation_under_load_ends_in_an_answer_or_a_proper_error()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Tokens, ChatSettings = FastTimeouts });

        var result = await LoadRunner.RunAsync(cluster, workers: 12, TimeSpan.FromSeconds(20),
            (worker, i) => LoadRunner.Mixed(worker, i, FailureModes[(worker * 7 + i) % FailureModes.Length]), requestTimeout: TimeSpan.FromSeconds(12),
            pace: TimeSpan.FromMilliseconds(50));

        result.Save("upstream-failure-rotation");
        AssertPromises(result);
        Assert.True(result.Succeeded > 0 && result.ProperErrors > 0, result.ToString());

        // The pool heals: once the upstream behaves, every request is answered again within seconds.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        LoadResult healed;
        do
        {
            await Task.Delay(500);
            healed = await LoadRunner.RunAsync(cluster, workers: 4, TimeSpan.FromSeconds(1), (worker, i) => LoadRunner.Mixed(worker, i));
        }
        while (healed.Succeeded != healed.Sent && clock.Elapsed < TimeSpan.FromSeconds(15));

        healed.Save("upstream-failure-rotation-healed");
        AssertPromises(healed);
        Assert.True(healed.Succeeded == healed.Sent, "the pool did not heal: " + healed);
    }

    [Fact]
    public async Task Redis_restarted_mid_load_loses_no_acknowledged_session_turn()
    {
        await using var redis = await RedisServer.StartAsync(appendOnly: true);
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = Tokens,
            Redis = redis.ConnectionString,
            ChatSettings = new Dictionary<string, string>(FastTimeouts) { ["MAX_CONTEXT_MESSAGES"] = "1000" },
        });

        using var restart = new CancellationTokenSource();
        var restarted = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            await redis.RestartAsync();
        });
        var result = await LoadRunner.RunAsync(cluster, workers: 8, TimeSpan.FromSeconds(15),
            (worker, i) => LoadRunner.Mixed(worker, i, session: $"fault-redis-{worker}"), requestTimeout: TimeSpan.FromSeconds(30),
            pace: TimeSpan.FromMilliseconds(40));
        await restarted;

        result.Save("redis-restart");
        AssertPromises(result);
        Assert.True(result.Succeeded > 0, result.ToString());

        // Every turn that was answered with a success is in its session (a user and an assistant message each).
        await Task.Delay(1000);
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        foreach (var session in result.AcknowledgedTurns.GroupBy(t => t.Session))
        {
            using var response = await admin.GetAsync($"/v1/admin/sessions?session_id={session.Key}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var turns = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("turns").EnumerateArray()
                .Where(t => t.GetProperty("role").GetString() == "user").Select(t => t.GetProperty("content").GetString()).ToHashSet();
            var lost = session.Select(t => t.Text).Where(text => !turns.Contains(text)).ToList();
            Assert.True(lost.Count == 0, $"{session.Key}: {lost.Count} of {session.Count()} acknowledged turns lost, e.g. {lost.FirstOrDefault()}");
        }

        // Credential state is intact: all three still there and enabled.
        using var tokens = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tokens"));
        Assert.Equal(3, tokens.RootElement.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task PostgreSQL_restarted_mid_load_keeps_chat_serving_and_loses_no_credential_state()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = Tokens,
            Redis = redis.ConnectionString,
            AdminSettings = new Dictionary<string, string> { ["STORAGE_TYPE"] = "postgres", ["ConnectionStrings:admindb"] = await postgres.CreateDatabaseAsync() },
        });
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using (var added = await admin.PostAsync("/v1/admin/tokens", new StringContent("""{"token":"flo_fault_suite_added_0004"}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        var listed = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tokens")).RootElement.GetProperty("tokens");
        var disabledId = listed.EnumerateArray().First().GetProperty("id").GetInt64();
        using (await admin.PostAsync($"/v1/admin/tokens/{disabledId}/disable", null))
        {
        }

        // Admin calls during the restart: each a success or a proper error, never a 500 or a hang.
        var adminStatuses = new System.Collections.Concurrent.ConcurrentBag<int>();
        using var stopAdmin = new CancellationTokenSource();
        var adminLoop = Task.Run(async () =>
        {
            while (!stopAdmin.IsCancellationRequested)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                using var response = await admin.GetAsync("/v1/admin/tokens", timeout.Token);
                adminStatuses.Add((int)response.StatusCode);
                await Task.Delay(100);
            }
        });
        var restarted = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            await postgres.RestartAsync();
        });
        var result = await LoadRunner.RunAsync(cluster, workers: 8, TimeSpan.FromSeconds(14), (worker, i) => LoadRunner.Mixed(worker, i), pace: TimeSpan.FromMilliseconds(20));
        await restarted;
        await stopAdmin.CancelAsync();
        await adminLoop;

        result.Save("postgres-restart");
        await File.WriteAllTextAsync(Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "reliability", "postgres-restart-admin.json"),
            JsonSerializer.Serialize(adminStatuses.GroupBy(s => s).ToDictionary(g => g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), g => g.Count())));
        AssertPromises(result);
        Assert.Equal(result.Sent, result.Succeeded); // chat never needed the database
        Assert.DoesNotContain(500, adminStatuses);
        Assert.All(adminStatuses, status => Assert.True(status is 200 or 503, $"admin call during the restart: {status}"));

        // Nothing lost: four credentials, the added one there, the disabled one still disabled.
        var after = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tokens")).RootElement;
        Assert.Equal(4, after.GetProperty("total").GetInt32());
        Assert.Equal("disabled", after.GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == disabledId).GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_chatservice_replica_killed_mid_stream_costs_only_the_requests_it_held()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Tokens, ChatReplicas = 2, ChatSettings = FastTimeouts });

        using var phaseOneDone = new CancellationTokenSource();
        var killed = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            await cluster.KillChatReplicaAsync(1);
        });
        // Slow streams, so the kill lands mid-stream for some of them.
        var during = await LoadRunner.RunAsync(cluster, workers: 10, TimeSpan.FromSeconds(8),
            (worker, i) => LoadRunner.Mixed(worker, i, "delay=40;chunk=4"));
        await killed;
        during.Save("replica-killed-during");
        Assert.True(during.Hung == 0 && during.OwnServerErrors == 0, during.ToString());
        // Only what the killed replica held can fail (at most one request per worker): every request after the kill whose
        // connection that replica refused went to the other one instead of becoming a 502.
        Assert.True(during.Sent - during.Succeeded <= 10, during.ToString());

        // Once the Gateway has seen the replica fail (a refused connection at once, a failed /ready probe within
        // seconds), nothing goes to it any more.
        await Task.Delay(TimeSpan.FromSeconds(4));
        var after = await LoadRunner.RunAsync(cluster, workers: 10, TimeSpan.FromSeconds(6), (worker, i) => LoadRunner.Mixed(worker, i));
        after.Save("replica-killed-after");
        AssertPromises(after);
        Assert.True(after.Succeeded == after.Sent, after.ToString());
    }

    [Fact]
    public async Task Hundreds_of_clients_walking_away_mid_stream_leave_nothing_open_and_disturb_no_one()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Tokens });
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1000 };
        using var http = new HttpClient(handler) { BaseAddress = cluster.GatewayUri };
        http.DefaultRequestHeaders.Authorization = new("Bearer", GatewayCluster.UserKey);

        var walkers = Enumerable.Range(0, 300).Select(async i =>
        {
            using var cancel = new CancellationTokenSource();
            var path = (i % 3) switch { 0 => "/v1/chat/completions", 1 => "/v1/messages", _ => "/v1/responses" };
            var body = (i % 3) switch
            {
                0 => """{"stream":true,"messages":[{"role":"user","content":"[[fake:delay=50;chunk=2]] a long answer please"}]}""",
                1 => """{"model":"claude-sonnet-4","max_tokens":500,"stream":true,"messages":[{"role":"user","content":"[[fake:delay=50;chunk=2]] a long answer please"}]}""",
                _ => """{"stream":true,"store":false,"input":"[[fake:delay=50;chunk=2]] a long answer please"}""",
            };
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            await using var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
            Assert.True(await stream.ReadAsync(new byte[64], cancel.Token) > 0); // the first bytes, then gone
            await cancel.CancelAsync();
        });
        await Task.WhenAll(walkers);

        // Everyone else is still served, and every stream the walkers opened is closed in the ChatService.
        var result = await LoadRunner.RunAsync(cluster, workers: 8, TimeSpan.FromSeconds(5), (worker, i) => LoadRunner.Mixed(worker, i));
        result.Save("mass-disconnect-then-load");
        AssertPromises(result);
        Assert.Equal(result.Sent, result.Succeeded);
        using var replica = cluster.CreateReplicaClient(0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var metrics = await replica.GetStringAsync("/metrics");
            var open = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("flowith2api_active_streams", StringComparison.Ordinal));
            if (open is not null && open.Trim().EndsWith(" 0", StringComparison.Ordinal))
            {
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"streams still open after the clients left: {open}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task A_very_slow_reader_gets_its_whole_stream_and_slows_no_one_else()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Tokens });
        using var http = cluster.CreateClient(timeout: TimeSpan.FromMinutes(2));
        var longText = Uri.EscapeDataString(string.Concat(Enumerable.Repeat("slow reader ", 4000)));
        var slow = Task.Run(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent($$"""{"stream":true,"messages":[{"role":"user","content":"[[fake:text={{longText}};chunk=64]] go"}]}""", Encoding.UTF8, "application/json"),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[512];
            var all = new StringBuilder();
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                all.Append(Encoding.UTF8.GetString(buffer, 0, read));
                await Task.Delay(5); // ~100 KB/s: far slower than the upstream
            }

            return all.ToString();
        });

        var others = await LoadRunner.RunAsync(cluster, workers: 8, TimeSpan.FromSeconds(8), (worker, i) => LoadRunner.Mixed(worker, i));
        others.Save("slow-reader-others");
        AssertPromises(others);
        Assert.Equal(others.Sent, others.Succeeded);
        var whole = await slow;
        Assert.EndsWith("data: [DONE]", whole.TrimEnd(), StringComparison.Ordinal);
        var text = new StringBuilder();
        foreach (var line in whole.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal)))
        {
            var delta = JsonDocument.Parse(line["data: ".Length..]).RootElement.GetProperty("choices");
            if (delta.GetArrayLength() > 0 && delta[0].GetProperty("delta").TryGetProperty("content", out var content))
            {
                text.Append(content.GetString());
            }
        }

        Assert.Equal(string.Concat(Enumerable.Repeat("slow reader ", 4000)), text.ToString()); // all of it, in order
    }
}
