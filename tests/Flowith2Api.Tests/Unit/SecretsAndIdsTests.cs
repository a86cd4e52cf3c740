using Flowith2Api.Gateway.Auth;
using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowith2Api.Tests.Unit;

public sealed class SecretsAndIdsTests
{
    [Theory]
    [InlineData("flo_0123456789abcdef0123456789abcdef", "flo…cdef")]
    [InlineData("short", "…rt")]
    [InlineData("", "")]
    public void Secrets_are_masked_to_a_few_characters(string secret, string masked) =>
        Assert.Equal(masked, SeedSettings.Mask(secret));

    [Fact]
    public void Redaction_removes_known_secrets_and_token_shaped_strings()
    {
        var text = "upstream said: token flo_abcdefabcdefabcdef1234 is invalid; key sk-live-1234567890abcdef; custom my-own-secret";
        var redacted = Redaction.Redact(text, "my-own-secret");
        Assert.DoesNotContain("flo_abcdefabcdefabcdef1234", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-live-1234567890abcdef", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("my-own-secret", redacted, StringComparison.Ordinal);
        Assert.Contains("upstream said", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void Comma_separated_lists_are_trimmed_and_deduplicated_in_order()
    {
        Assert.Equal(["a", "b", "c"], SeedSettings.SplitList(" a, b ,,a,c\n"));
        Assert.Empty(SeedSettings.SplitList("  "));
    }

    [Theory]
    [InlineData("req_abc-123", true)]
    [InlineData("0af7651916cd43dd8448eb211c80319c", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("line\nbreak", false)]
    [InlineData("<script>", false)]
    public void Only_sane_request_ids_are_accepted_from_clients(string id, bool accepted) =>
        Assert.Equal(accepted, RequestIdMiddleware.IsAcceptable(id));

    [Fact]
    public void New_request_ids_are_unique_and_prefixed()
    {
        var a = RequestIdMiddleware.NewId();
        var b = RequestIdMiddleware.NewId();
        Assert.NotEqual(a, b);
        Assert.Matches("^req_[0-9a-f]{32}$", a);
    }

    [Fact]
    public void The_key_store_finds_keys_by_hash_and_knows_the_admin()
    {
        var store = new ApiKeyStore(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["API_KEYS"] = "sk-user-one,sk-user-two",
            ["ADMIN_KEY"] = "sk-the-admin",
        }).Build(), NullLogger<ApiKeyStore>.Instance);

        Assert.False(store.Find("sk-user-one")!.IsAdmin);
        Assert.True(store.Find("sk-the-admin")!.IsAdmin);
        Assert.Null(store.Find("sk-user-on"));
        Assert.Null(store.Find("sk-user-one "));
        Assert.Null(store.Find(""));
        Assert.Null(store.Find(new string('k', 10_000)));
        Assert.DoesNotContain("sk-user-one", store.Find("sk-user-one")!.Id, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_an_admin_key_the_first_api_key_is_the_admin()
    {
        var store = new ApiKeyStore(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["API_KEYS"] = "sk-first,sk-second",
        }).Build(), NullLogger<ApiKeyStore>.Instance);

        Assert.True(store.Find("sk-first")!.IsAdmin);
        Assert.False(store.Find("sk-second")!.IsAdmin);
    }
}
