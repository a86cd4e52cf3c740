using System.Text.Json;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>Reads tool arguments, throwing <see cref="ToolArgumentException"/> with a plain message when one is wrong.</summary>
public static class ArgumentReader
{
    public static string RequiredText(JsonElement arguments, string name, bool allowEmpty = false)
    {
        var value = ToolArgs.Text(arguments, name);
        if (value is null)
        {
            throw new ToolArgumentException($"'{name}' is required and must be a string.");
        }

        if (!allowEmpty && value.Length == 0)
        {
            throw new ToolArgumentException($"'{name}' must not be empty.");
        }

        return value;
    }

    public static string? OptionalText(JsonElement arguments, string name)
    {
        if (!IsPresent(arguments, name))
        {
            return null;
        }

        return ToolArgs.Text(arguments, name) ?? throw new ToolArgumentException($"'{name}' must be a string.");
    }

    public static int? OptionalInt(JsonElement arguments, string name, int minimum)
    {
        if (!IsPresent(arguments, name))
        {
            return null;
        }

        var value = ToolArgs.Number(arguments, name) ?? throw new ToolArgumentException($"'{name}' must be a whole number.");
        return value >= minimum ? value : throw new ToolArgumentException($"'{name}' must be at least {minimum}.");
    }

    public static bool OptionalFlag(JsonElement arguments, string name, bool fallback = false)
    {
        if (!IsPresent(arguments, name))
        {
            return fallback;
        }

        return ToolArgs.Flag(arguments, name) ?? throw new ToolArgumentException($"'{name}' must be true or false.");
    }

    private static bool IsPresent(JsonElement arguments, string name) =>
        arguments.ValueKind == JsonValueKind.Object
        && arguments.TryGetProperty(name, out var value)
        && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);
}
