using System.Diagnostics;
using System.Text.Json;
using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowith2Api.Tests.Unit;

public sealed class JsonLogFormatterTests
{
    [Fact]
    public void A_log_line_is_one_json_object_with_trace_span_and_request_ids_and_no_secret()
    {
        const string secret = "flo_log_line_secret_0123456789";
        Redaction.Remember(secret);
        using var source = new ActivitySource("test-json-logs");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "test-json-logs",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var activity = source.StartActivity("request");
        Assert.NotNull(activity);

        var scopes = new LoggerExternalScopeProvider();
        using var scope = scopes.Push(new[] { new KeyValuePair<string, object?>(RedactingJsonConsoleFormatter.RequestIdScopeKey, "req_42") });
        var state = new[]
        {
            new KeyValuePair<string, object?>("Credential", secret),
            new KeyValuePair<string, object?>("Attempt", 2),
            new KeyValuePair<string, object?>("{OriginalFormat}", "Attempt {Attempt} with {Credential} failed"),
        };
        var entry = new LogEntry<KeyValuePair<string, object?>[]>(LogLevel.Warning, "Flowith2Api.Test", new EventId(7), state,
            new InvalidOperationException($"upstream said no to {secret}"), (_, _) => $"Attempt 2 with {secret} failed");
        using var output = new StringWriter();

        new RedactingJsonConsoleFormatter().Write(entry, scopes, output);

        var line = output.ToString();
        Assert.Single(line.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain(secret, line, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("warn", root.GetProperty("level").GetString());
        Assert.Equal("Flowith2Api.Test", root.GetProperty("category").GetString());
        Assert.Equal(activity.TraceId.ToHexString(), root.GetProperty("trace_id").GetString());
        Assert.Equal(activity.SpanId.ToHexString(), root.GetProperty("span_id").GetString());
        Assert.Equal("req_42", root.GetProperty("request_id").GetString());
        Assert.Equal(2, root.GetProperty("Attempt").GetInt32());
        Assert.Equal(SeedSettings.Mask(secret), root.GetProperty("Credential").GetString());
        Assert.Contains(SeedSettings.Mask(secret), root.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("InvalidOperationException", root.GetProperty("exception").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Remembered_secrets_are_masked_wherever_a_word_starts_and_nowhere_else()
    {
        const string secret = "Zq8-remembered.secret_value";
        Redaction.Remember(secret);

        Assert.Equal($"token={SeedSettings.Mask(secret)}; done", Redaction.Redact($"token={secret}; done"));
        Assert.Equal($"\"{SeedSettings.Mask(secret)}\"", Redaction.Redact($"\"{secret}\""));
        Assert.Equal("nothing to see", Redaction.Redact("nothing to see"));
        Assert.Equal($"x{SeedSettings.Mask(secret)}", Redaction.Redact($"x{secret}")); // right after a letter (URL-encoded, escaped)
        Assert.Equal($"%3D{SeedSettings.Mask(secret)}", Redaction.Redact($"%3D{secret}"));
    }

    [Fact]
    public void The_longer_of_two_secrets_sharing_a_prefix_is_masked_whole()
    {
        const string shorter = "Pp7prefix-shared-one";
        const string longer = "Pp7prefix-shared-one-and-more-secret";
        Redaction.Remember(shorter, longer);

        Assert.Equal($"[{SeedSettings.Mask(longer)}]", Redaction.Redact($"[{longer}]"));
        Assert.Equal($"[{SeedSettings.Mask(shorter)}]", Redaction.Redact($"[{shorter}]"));
    }

    [Fact]
    public void Passwords_in_configured_connection_strings_are_remembered()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:admindb"] = "Host=db;Username=u;Password=Pg-secret-pass-77;Database=d" })
            .Build();
        Redaction.RememberConfigured(configuration);

        Assert.DoesNotContain("Pg-secret-pass-77", Redaction.Redact("login failed for Pg-secret-pass-77"), StringComparison.Ordinal);
    }
}
