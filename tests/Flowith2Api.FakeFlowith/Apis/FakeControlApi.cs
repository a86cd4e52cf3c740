using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Flowith2Api.FakeFlowith;

/// <summary>
/// Routes that script the fake server from another process (the AppHost, a benchmark):
/// scenarios per token and per request id, the default scenario, and the request log.
/// A scenario body is a spec string (<c>status=500</c>), a JSON string or a JSON object.
/// </summary>
public static class FakeControlApi
{
    /// <summary>Maps <c>/_fake/*</c> and <c>/health</c>.</summary>
    public static IEndpointRouteBuilder MapFakeControlApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/_fake");
        group.MapPost("/tokens/{token}/scenario", SetTokenScenarioAsync);
        group.MapDelete("/tokens/{token}/scenario", ClearTokenScenario);
        group.MapPost("/tokens/{token}/queue", EnqueueAsync);
        group.MapDelete("/tokens/{token}", ClearToken);
        group.MapPost("/request-ids/{requestId}/scenario", SetRequestIdScenarioAsync);
        group.MapDelete("/request-ids/{requestId}/scenario", ClearRequestIdScenario);
        group.MapGet("/default-scenario", GetDefaultScenario);
        group.MapPost("/default-scenario", SetDefaultScenarioAsync);
        group.MapDelete("/scenarios", ResetScenarios);
        group.MapGet("/requests", GetRequests);
        group.MapDelete("/requests", ClearRequests);
        endpoints.MapGet("/health", () => TypedResults.Text("Healthy"));
        return endpoints;
    }

    private static async Task<Results<Ok<FakeControlResult>, ProblemHttpResult>> SetTokenScenarioAsync(
        string token, HttpRequest request, FakeScenarioRegistry scenarios)
    {
        var (scenario, problem) = await ReadScenarioAsync(request);
        if (problem is not null)
            return problem;
        scenarios.SetForToken(token, scenario);
        return TypedResults.Ok(new FakeControlResult(token, scenario!.ToSpec()));
    }

    private static NoContent ClearTokenScenario(string token, FakeScenarioRegistry scenarios)
    {
        scenarios.SetForToken(token, null);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<FakeControlResult>, ProblemHttpResult>> EnqueueAsync(
        string token, HttpRequest request, FakeScenarioRegistry scenarios)
    {
        var (scenario, problem) = await ReadScenarioAsync(request);
        if (problem is not null)
            return problem;
        scenarios.Enqueue(token, scenario!);
        return TypedResults.Ok(new FakeControlResult(token, scenario!.ToSpec(), scenarios.QueuedCount(token)));
    }

    private static NoContent ClearToken(string token, FakeScenarioRegistry scenarios)
    {
        scenarios.ClearToken(token);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<FakeControlResult>, ProblemHttpResult>> SetRequestIdScenarioAsync(
        string requestId, HttpRequest request, FakeScenarioRegistry scenarios)
    {
        var (scenario, problem) = await ReadScenarioAsync(request);
        if (problem is not null)
            return problem;
        scenarios.ForRequestId(requestId, scenario);
        return TypedResults.Ok(new FakeControlResult(requestId, scenario!.ToSpec()));
    }

    private static NoContent ClearRequestIdScenario(string requestId, FakeScenarioRegistry scenarios)
    {
        scenarios.ForRequestId(requestId, null);
        return TypedResults.NoContent();
    }

    private static Ok<FakeControlResult> GetDefaultScenario(FakeScenarioRegistry scenarios) =>
        TypedResults.Ok(new FakeControlResult("default", scenarios.Default.ToSpec()));

    private static async Task<Results<Ok<FakeControlResult>, ProblemHttpResult>> SetDefaultScenarioAsync(
        HttpRequest request, FakeScenarioRegistry scenarios)
    {
        var (scenario, problem) = await ReadScenarioAsync(request);
        if (problem is not null)
            return problem;
        scenarios.Default = scenario!;
        return TypedResults.Ok(new FakeControlResult("default", scenario!.ToSpec()));
    }

    private static NoContent ResetScenarios(FakeScenarioRegistry scenarios)
    {
        scenarios.Reset();
        return TypedResults.NoContent();
    }

    private static JsonHttpResult<IReadOnlyList<RecordedRequest>> GetRequests(string? token, FakeRequestLog log)
    {
        IReadOnlyList<RecordedRequest> requests = token is null ? log.All : log.ForToken(token);
        return TypedResults.Json(requests, FakeFlowithJsonContext.Default.IReadOnlyListRecordedRequest);
    }

    private static NoContent ClearRequests(FakeRequestLog log)
    {
        log.Clear();
        return TypedResults.NoContent();
    }

    private static async Task<(FakeScenario? Scenario, ProblemHttpResult? Problem)> ReadScenarioAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var body = (await reader.ReadToEndAsync(request.HttpContext.RequestAborted)).Trim();
        try
        {
            if (body.Length == 0)
                return (FakeScenario.Default, null);
            if (body[0] is '{' or '"')
            {
                using var json = JsonDocument.Parse(body);
                return (FakeScenarioJson.FromJson(json.RootElement), null);
            }

            return (FakeScenario.Parse(body), null);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
        {
            return (null, Invalid(ex.Message));
        }
    }

    private static ProblemHttpResult Invalid(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid fake scenario");
}
