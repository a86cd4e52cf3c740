using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Flowith2Api.FakeFlowith;

/// <summary>The Flowith routes: seek (and its aliases) and models.</summary>
public static class FlowithApi
{
    /// <summary>The request header carrying a scenario spec (highest precedence).</summary>
    public const string ScenarioHeader = "x-fake-scenario";

    /// <summary>The chat route.</summary>
    public const string SeekPath = "/external/use/knowledge-base/seek";

    /// <summary>The models route.</summary>
    public const string ModelsPath = "/external/use/knowledge-base/models";

    /// <summary>Maps the Flowith routes onto <paramref name="endpoints"/>.</summary>
    public static IEndpointRouteBuilder MapFlowithApi(this IEndpointRouteBuilder endpoints)
    {
        var handler = endpoints.ServiceProvider.GetRequiredService<FlowithHandler>();
        endpoints.MapPost(SeekPath, (RequestDelegate)handler.SeekAsync);
        endpoints.MapPost("/external/use/seek-knowledge", (RequestDelegate)handler.SeekAsync);
        endpoints.MapPost("/external/use/seek-knowledge/seek", (RequestDelegate)handler.SeekAsync);
        endpoints.MapGet(ModelsPath, (RequestDelegate)handler.ModelsAsync);
        endpoints.MapGet("/external/use/seek-knowledge/models", (RequestDelegate)handler.LegacyModelsAsync);
        return endpoints;
    }
}

/// <summary>Request handlers of the Flowith routes (plain <see cref="RequestDelegate"/>s for speed).</summary>
internal sealed class FlowithHandler
{
    private const string DefaultReplyPrefix = "fake-flowith reply to: ";
    private const string DirectiveOpen = "[[fake:";
    private const string DirectiveClose = "]]";

    private readonly FakeFlowithOptions _options;
    private readonly FakeScenarioRegistry _scenarios;
    private readonly FakeRequestLog _log;
    private readonly HashSet<string>? _validTokens;
    private readonly byte[] _modelsJson;
    private readonly CancellationToken _stopping;

    public FlowithHandler(FakeFlowithOptions options, FakeScenarioRegistry scenarios, FakeRequestLog log, IHostApplicationLifetime lifetime)
    {
        _options = options;
        _scenarios = scenarios;
        _log = log;
        _validTokens = options.ValidTokens is null ? null : new HashSet<string>(options.ValidTokens, StringComparer.Ordinal);
        _modelsJson = FlowithWire.ModelsJson(options.Models ?? FakeFlowithOptions.DefaultModels);
        _stopping = lifetime.ApplicationStopping;
    }

    public async Task SeekAsync(HttpContext context)
    {
        try
        {
            await HandleSeekAsync(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
            context.Abort();
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away while we were reading or writing.
        }
    }

    public async Task ModelsAsync(HttpContext context)
    {
        var request = context.Request;
        var token = GetBearerToken(request);
        var requestId = GetHeader(request, "X-Request-ID");
        if (!await AuthorizeAsync(context, token, requestId, body: null))
            return;

        FakeScenario? scenario = null;
        var source = FakeScenarioSource.None;
        try
        {
            if (GetHeader(request, FlowithApi.ScenarioHeader) is { } headerSpec)
            {
                scenario = FakeScenario.Parse(headerSpec);
                source = FakeScenarioSource.Header;
            }

            scenario ??= _scenarios.ResolveExplicit(token!, requestId, allowQueue: false, out source);
        }
        catch (FormatException ex)
        {
            Record(context, token, requestId, null, null, FakeScenarioSource.None);
            await FakeResponder.WriteJsonErrorAsync(context.Response, 400, ex.Message, context.RequestAborted);
            return;
        }

        if (scenario is null)
        {
            scenario = _scenarios.Default;
            source = FakeScenarioSource.Default;
        }

        Record(context, token, requestId, null, scenario, source);
        await AnswerAsync(context, token!, scenario, _modelsJson, static (ctx, sc, body, ct) => FakeResponder.JsonAsync(ctx, sc, body, ct));
    }

    public Task LegacyModelsAsync(HttpContext context)
    {
        Record(context, GetBearerToken(context.Request), GetHeader(context.Request, "X-Request-ID"), null, null, FakeScenarioSource.None);
        return FakeResponder.WriteJsonErrorAsync(context.Response, 404, "Not Found", context.RequestAborted);
    }

    private async Task HandleSeekAsync(HttpContext context)
    {
        var request = context.Request;
        var token = GetBearerToken(request);
        var requestId = GetHeader(request, "X-Request-ID");

        var reader = request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await reader.ReadAsync(context.RequestAborted);
            if (read.IsCompleted || read.IsCanceled)
                break;
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        var buffer = read.Buffer;
        var body = _log.IsEnabled ? Encoding.UTF8.GetString(buffer) : null;
        var invalidBody = SeekRequestParser.TryParse(buffer, out var seek);
        reader.AdvanceTo(buffer.End);

        if (!await AuthorizeAsync(context, token, requestId, body))
            return;

        FakeScenario? scenario = null;
        var source = FakeScenarioSource.None;
        if (GetHeader(request, FlowithApi.ScenarioHeader) is { } headerSpec)
        {
            if (!FakeScenario.TryParse(headerSpec, out scenario, out var error))
            {
                await RejectAsync(context, token, requestId, body, $"Invalid {FlowithApi.ScenarioHeader} header: {error}");
                return;
            }

            source = FakeScenarioSource.Header;
        }

        if (invalidBody is not null)
        {
            await RejectAsync(context, token, requestId, body, invalidBody);
            return;
        }

        var userText = seek.LastUserContent;
        var directive = ExtractDirective(ref userText);
        try
        {
            scenario ??= _scenarios.ResolveExplicit(token!, requestId, allowQueue: true, out source);
            if (scenario is null && directive is not null)
            {
                scenario = FakeScenario.Parse(directive);
                source = FakeScenarioSource.MessageDirective;
            }
        }
        catch (FormatException ex)
        {
            await RejectAsync(context, token, requestId, body, ex.Message);
            return;
        }

        if (scenario is null)
        {
            scenario = _scenarios.Default;
            source = FakeScenarioSource.Default;
        }

        Record(context, token, requestId, body, scenario, source);
        var text = scenario.Text ?? string.Concat(DefaultReplyPrefix, userText);
        if (seek.Stream)
            await AnswerAsync(context, token!, scenario, text, static (ctx, sc, t, ct) => FakeResponder.StreamAsync(ctx, sc, t, ct));
        else
            await AnswerAsync(context, token!, scenario, text, static (ctx, sc, t, ct) => FakeResponder.NonStreamAsync(ctx, sc, t, ct));
    }

    private async Task AnswerAsync<TState>(
        HttpContext context,
        string token,
        FakeScenario scenario,
        TState state,
        Func<HttpContext, FakeScenario, TState, CancellationToken, Task> answer)
    {
        _log.Enter(token);
        try
        {
            if ((scenario.RateLimitPerMinute ?? _options.RateLimitPerMinute) is int limit
                && !_scenarios.RateLimiter.TryAcquire(token, limit, out var retryAfter))
            {
                await FakeResponder.WriteStatusAsync(context.Response, 429, retryAfter, context.RequestAborted);
                return;
            }

            await FakeResponder.RunAsync(context, scenario, state, answer, _stopping);
        }
        finally
        {
            _log.Exit(token);
        }
    }

    private async ValueTask<bool> AuthorizeAsync(HttpContext context, string? token, string? requestId, string? body)
    {
        string message;
        if (token is null)
            message = "Missing or invalid Authorization header (expected: Bearer <token>)";
        else if (_validTokens is not null && !_validTokens.Contains(token))
            message = "Invalid or expired token";
        else
            return true;

        Record(context, token, requestId, body, null, FakeScenarioSource.None);
        await FakeResponder.WriteJsonErrorAsync(context.Response, 401, message, context.RequestAborted);
        return false;
    }

    private Task RejectAsync(HttpContext context, string? token, string? requestId, string? body, string message)
    {
        Record(context, token, requestId, body, null, FakeScenarioSource.None);
        return FakeResponder.WriteJsonErrorAsync(context.Response, 400, message, context.RequestAborted);
    }

    private void Record(HttpContext context, string? token, string? requestId, string? body, FakeScenario? scenario, FakeScenarioSource source)
    {
        if (!_log.IsEnabled)
            return;

        var request = context.Request;
        var headers = new Dictionary<string, string>(request.Headers.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers)
            headers[header.Key] = header.Value.ToString();

        _log.Add(new RecordedRequest
        {
            Sequence = _log.NextSequence(),
            Timestamp = DateTimeOffset.UtcNow,
            Method = request.Method,
            Path = request.Path.Value ?? "",
            QueryString = request.QueryString.Value ?? "",
            Headers = headers,
            Body = body ?? "",
            Token = token,
            RequestId = requestId,
            Scenario = scenario,
            ScenarioSource = source,
        });
    }

    /// <summary>Removes the first <c>[[fake:spec]]</c> from <paramref name="text"/> and returns the spec.</summary>
    private static string? ExtractDirective(ref string text)
    {
        var open = text.IndexOf(DirectiveOpen, StringComparison.Ordinal);
        if (open < 0)
            return null;
        var close = text.IndexOf(DirectiveClose, open + DirectiveOpen.Length, StringComparison.Ordinal);
        if (close < 0)
            return null;

        var spec = text[(open + DirectiveOpen.Length)..close];
        text = string.Concat(text.AsSpan(0, open), text.AsSpan(close + DirectiveClose.Length)).Trim();
        return spec;
    }

    private static string? GetBearerToken(HttpRequest request)
    {
        var value = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (value.Length <= scheme.Length || !value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return null;
        var token = value[scheme.Length..].Trim();
        return token.Length == 0 ? null : token;
    }

    private static string? GetHeader(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) && !StringValues.IsNullOrEmpty(values) ? values.ToString() : null;
}
