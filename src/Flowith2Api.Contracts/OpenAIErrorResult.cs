using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;

namespace Flowith2Api.Contracts;

/// <summary>
/// An error in OpenAI's envelope as a typed result (<c>Results&lt;Ok&lt;T&gt;, OpenAIErrorResult&gt;</c>), described as
/// such in the OpenAPI document.
/// </summary>
public sealed class OpenAIErrorResult(int statusCode, string message, string? code) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public int StatusCode => statusCode;

    int? IStatusCodeHttpResult.StatusCode => statusCode;

    public string Message => message;

    public string? Code => code;

    public Task ExecuteAsync(HttpContext httpContext) => ErrorEnvelopes.WriteResponseAsync(httpContext, statusCode,
        json => ErrorEnvelopes.WriteOpenAI(json, message, ErrorEnvelopes.OpenAIType(statusCode), code));

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(OpenAIErrorDescription), ["application/json"]));
    }
}
