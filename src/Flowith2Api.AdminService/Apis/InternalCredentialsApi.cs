using Flowith2Api.AdminService.Data;
using Flowith2Api.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Flowith2Api.AdminService.Apis;

/// <summary>
/// What the ChatService's credential pool reads and reports (internal door, never routed by the Gateway): the live
/// credentials with their values, and credentials the upstream rejected, so their state and reason persist.
/// </summary>
public static class InternalCredentialsApi
{
    public static IEndpointRouteBuilder MapInternalCredentialsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/internal/credentials", ListAsync);
        app.MapPost("/internal/credentials/{id}/disabled", DisabledAsync);
        app.MapPost("/internal/credentials/outcomes", OutcomesAsync);
        return app;
    }

    public static async Task<Ok<InternalCredentialList>> ListAsync(AdminDbContext db, SecretProtector protector, CancellationToken cancellationToken)
    {
        // An admin-disabled credential is left out: no replica uses it, and the probe does not bring it back.
        var credentials = await db.Credentials.Where(c => c.Deleted == null && !c.AdminDisabled).OrderBy(c => c.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(new InternalCredentialList(
            [.. credentials.Select(c => new InternalCredential(protector.Unprotect(c.EncryptedValue), c.State.ToString().ToLowerInvariant()))]));
    }

    /// <summary>The pool's id of a credential is <c>cred_</c> and the first 16 hex digits of its hash.</summary>
    public static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DisabledAsync(HttpContext context, string id, AdminDbContext db, TimeProvider time,
        CredentialDisabledReport report)
    {
        if (!id.StartsWith("cred_", StringComparison.Ordinal) || id.Length != 21)
        {
            return AdminRequests.Problem("Unknown credential id format.");
        }

        var prefix = id["cred_".Length..];
        var credential = await db.Credentials.Where(c => c.Deleted == null && c.Hash.StartsWith(prefix)).FirstOrDefaultAsync(context.RequestAborted);
        if (credential is null)
        {
            return TypedResults.NotFound();
        }

        credential.State = CredentialStateValue.Disabled;
        credential.Reason = credential.AdminDisabled ? credential.Reason : Truncate(report.Reason); // an admin's reason stands
        credential.LastError = Truncate(report.Reason);
        credential.FailureCount++;
        credential.LastUsed = time.GetUtcNow();
        await db.SaveChangesAsync(context.RequestAborted);
        return TypedResults.NoContent();
    }

    /// <summary>Batched success and failure counts, last use and last error per credential.</summary>
    public static async Task<NoContent> OutcomesAsync(HttpContext context, AdminDbContext db, List<CredentialOutcome> outcomes)
    {
        foreach (var outcome in outcomes.Where(o => o.Id.StartsWith("cred_", StringComparison.Ordinal) && o.Id.Length == 21))
        {
            var prefix = outcome.Id["cred_".Length..];
            var credential = await db.Credentials.Where(c => c.Deleted == null && c.Hash.StartsWith(prefix)).FirstOrDefaultAsync(context.RequestAborted);
            if (credential is null)
            {
                continue;
            }

            credential.UseCount += Math.Max(0, outcome.Successes) + Math.Max(0, outcome.Failures);
            credential.FailureCount += Math.Max(0, outcome.Failures);
            credential.LastUsed = credential.LastUsed is { } previous && previous > outcome.LastUsed ? previous : outcome.LastUsed;
            if (outcome.LastError is { } error)
            {
                credential.LastError = Truncate(error);
            }
        }

        await db.SaveChangesAsync(context.RequestAborted);
        return TypedResults.NoContent();
    }

    private static string? Truncate(string? text) => text is null ? null : text.Length <= 1000 ? text : text[..1000];

}
