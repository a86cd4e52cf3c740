using Flowith2Api.ChatService.Credentials;
using Flowith2Api.ChatService.Upstream;

using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Unit;

public sealed class CredentialPoolTests
{
    private sealed class FixedSource(params string[] values) : ICredentialSource
    {
        public IReadOnlyList<Credential> Current { get; } = [.. values.Select(v => new Credential(v))];
    }

    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch.AddDays(20_000);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static (CredentialPool Pool, ManualTime Time) Create(params string[] values)
    {
        var time = new ManualTime();
        return (new CredentialPool(new FixedSource(values), new InMemoryCredentialStateStore(), new FixedOptionsMonitor<PoolOptions>(new PoolOptions()), time, []), time);
    }

    private static async Task<string[]> TakeAsync(CredentialPool pool, int count)
    {
        var taken = new string[count];
        for (var i = 0; i < count; i++)
        {
            taken[i] = (await pool.NextAsync())?.Credential.Value ?? "none";
        }

        return taken;
    }

    [Fact]
    public async Task Credentials_are_taken_round_robin()
    {
        var (pool, _) = Create("a", "b", "c");
        Assert.Equal(["a", "b", "c", "a", "b"], await TakeAsync(pool, 5));
    }

    [Fact]
    public async Task A_rejected_credential_stays_disabled_until_enabled()
    {
        var (pool, time) = Create("a", "b");
        var lease = (await pool.NextAsync())!;
        await pool.ReportFailureAsync(lease, new UpstreamException(UpstreamFailureKind.CredentialRejected, "401", 401));
        time.Now += TimeSpan.FromDays(1);
        Assert.Equal(["b", "b", "b"], await TakeAsync(pool, 3));

        var status = (await pool.StatusesAsync()).Single(s => s.Masked == lease.Credential.Masked);
        Assert.Equal(CredentialState.Disabled, status.State);
        Assert.Equal("401", status.Reason);

        await pool.EnableAsync(lease.Credential.Id, "admin");
        Assert.Contains("a", await TakeAsync(pool, 2));
    }

    [Fact]
    public async Task A_rate_limited_credential_cools_down_for_exactly_its_retry_after()
    {
        var (pool, time) = Create("a", "b");
        var lease = (await pool.NextAsync())!;
        await pool.ReportFailureAsync(lease, new UpstreamException(UpstreamFailureKind.RateLimited, "429", 429, TimeSpan.FromSeconds(30)));

        time.Now += TimeSpan.FromSeconds(29);
        Assert.Equal(["b", "b"], await TakeAsync(pool, 2));
        time.Now += TimeSpan.FromSeconds(2);
        Assert.Contains("a", await TakeAsync(pool, 2));
    }

    [Fact]
    public async Task One_transient_failure_does_not_cool_a_credential_but_a_run_of_them_does_and_success_heals_it()
    {
        var (pool, _) = Create("a");
        var failure = new UpstreamException(UpstreamFailureKind.ServerError, "500", 500);

        await pool.ReportFailureAsync((await pool.NextAsync())!, failure);
        var again = await pool.NextAsync();
        Assert.NotNull(again);

        await pool.ReportFailureAsync(again, failure);
        Assert.Null(await pool.NextAsync()); // cooling after two in a row

        var status = Assert.Single(await pool.StatusesAsync());
        Assert.Equal(CredentialState.Cooling, status.State);
        Assert.Equal(2, status.Failures);
    }

    [Fact]
    public async Task Excluded_credentials_are_skipped_and_none_left_gives_null()
    {
        var (pool, _) = Create("a", "b");
        var a = new Credential("a").Id;
        var b = new Credential("b").Id;
        Assert.Equal("b", (await pool.NextAsync(new HashSet<string> { a }))!.Credential.Value);
        Assert.Null(await pool.NextAsync(new HashSet<string> { a, b }));
    }

    [Fact]
    public void Backoff_grows_exponentially_with_jitter_and_is_capped()
    {
        var baseDelay = TimeSpan.FromMilliseconds(100);
        var cap = TimeSpan.FromSeconds(1);
        for (var i = 0; i < 50; i++)
        {
            Assert.InRange(CredentialPool.Backoff(baseDelay, 1, cap).TotalMilliseconds, 50, 100);
            Assert.InRange(CredentialPool.Backoff(baseDelay, 3, cap).TotalMilliseconds, 200, 400);
            Assert.InRange(CredentialPool.Backoff(baseDelay, 30, cap).TotalMilliseconds, 500, 1000);
        }
    }

    [Fact]
    public void Credential_ids_and_masks_never_contain_the_value()
    {
        var credential = new Credential("flo_0123456789abcdef0123456789abcdef");
        Assert.DoesNotContain("0123456789abcdef0123", credential.Id, StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789abcdef0123", credential.Masked, StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789abcdef0123", credential.ToString(), StringComparison.Ordinal);
    }
}
