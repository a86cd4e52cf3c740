using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// One JSON object per log line — time, level, category, message, trace and span ids, the request id, the message's
/// parameters and scopes — with every string passed through <see cref="Redaction"/> on the way out.
/// </summary>
public sealed class RedactingJsonConsoleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "flowith2api-json";

    /// <summary>The logging scope key the request id travels under.</summary>
    public const string RequestIdScopeKey = "request_id";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow);
            json.WriteString("level", LevelName(logEntry.LogLevel));
            json.WriteString("category", logEntry.Category);
            if (logEntry.EventId.Id != 0)
            {
                json.WriteNumber("event_id", logEntry.EventId.Id);
            }

            json.WriteString("message", Redaction.Redact(message ?? ""));
            if (logEntry.Exception is { } exception)
            {
                json.WriteString("exception", Redaction.Redact(exception.ToString()));
            }

            if (Activity.Current is { } activity)
            {
                json.WriteString("trace_id", activity.TraceId.ToHexString());
                json.WriteString("span_id", activity.SpanId.ToHexString());
            }

            var written = new HashSet<string>(StringComparer.Ordinal) { "time", "level", "category", "message", "exception", "trace_id", "span_id" };
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> state)
            {
                WriteProperties(json, state, written);
            }

            scopeProvider?.ForEachScope(static (scope, context) =>
            {
                if (scope is IReadOnlyList<KeyValuePair<string, object?>> properties)
                {
                    WriteProperties(context.Json, properties, context.Written);
                }
            }, (Json: json, Written: written));
            json.WriteEndObject();
        }

        textWriter.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void WriteProperties(Utf8JsonWriter json, IReadOnlyList<KeyValuePair<string, object?>> properties, HashSet<string> written)
    {
        foreach (var (key, value) in properties)
        {
            if (key == "{OriginalFormat}" || !written.Add(key))
            {
                continue;
            }

            switch (value)
            {
                case null:
                    json.WriteNull(key);
                    break;
                case bool flag:
                    json.WriteBoolean(key, flag);
                    break;
                case int or long or short or byte or uint or ushort:
                    json.WriteNumber(key, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case ulong big:
                    json.WriteNumber(key, big);
                    break;
                case double or float or decimal when Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture) is var number
                    && double.IsFinite(number):
                    json.WriteNumber(key, number);
                    break;
                default:
                    json.WriteString(key, Redaction.Redact(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? ""));
                    break;
            }
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "none",
    };
}
