using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Flowith2Api.AdminService.Apis;

/// <summary>
/// Reading an admin request body into its record, with a 400 that says what is wrong: not JSON, not an object, or
/// which field has the wrong type.
/// </summary>
public static class AdminRequests
{
    public static async Task<(T? Body, ProblemHttpResult? Error)> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> type)
        where T : class
    {
        JsonElement root;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return (null, Problem("The body is not valid JSON."));
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, Problem("The body must be a JSON object."));
        }

        try
        {
            return (root.Deserialize(type)!, null);
        }
        catch (JsonException e)
        {
            var field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "a field";
            return (null, Problem($"'{field}' has the wrong type."));
        }
    }

    public static ProblemHttpResult Problem(string detail) => TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: detail);

    public static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: detail);
}

/// <summary>
/// A field of a partial update: absent (leave it), or present with a value or <c>null</c> (set it), which a nullable
/// property alone cannot tell apart.
/// </summary>
[JsonConverter(typeof(FieldJsonConverterFactory))]
public readonly record struct Field<T>(bool IsSet, T? Value);

public sealed class FieldJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Field<>);

    public override JsonConverter? CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter?)Activator.CreateInstance(typeof(FieldJsonConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]));
}

public sealed class FieldJsonConverter<T> : JsonConverter<Field<T>>
{
    public override bool HandleNull => true;

    public override Field<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(true, reader.TokenType == JsonTokenType.Null ? default : JsonSerializer.Deserialize<T>(ref reader, (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T))));

    public override void Write(Utf8JsonWriter writer, Field<T> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value.Value, (JsonTypeInfo<T?>)options.GetTypeInfo(typeof(T)));
}
