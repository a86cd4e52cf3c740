using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Logs;

namespace Flowith2Api.ServiceDefaults;

/// <summary>Masks secrets in every span's attributes, status and event attributes before it is exported.</summary>
public sealed class RedactingSpanProcessor : BaseProcessor<Activity>
{
    public override void OnEnd(Activity data)
    {
        List<KeyValuePair<string, string>>? changed = null;
        foreach (var tag in data.TagObjects)
        {
            if (tag.Value is string value && Redaction.Redact(value) is var redacted && !ReferenceEquals(redacted, value))
            {
                (changed ??= []).Add(new(tag.Key, redacted));
            }
        }

        if (changed is not null)
        {
            foreach (var (key, value) in changed)
            {
                data.SetTag(key, value);
            }
        }

        if (data.StatusDescription is { } description && Redaction.Redact(description) is var status && !ReferenceEquals(status, description))
        {
            data.SetStatus(data.Status, status);
        }
    }
}

/// <summary>Masks secrets in every log record's message, attributes and exception text before it is exported.</summary>
public sealed class RedactingLogProcessor : BaseProcessor<LogRecord>
{
    public override void OnEnd(LogRecord data)
    {
        if (data.FormattedMessage is { } message)
        {
            data.FormattedMessage = Redaction.Redact(message);
        }

        if (data.Body is { } body)
        {
            data.Body = Redaction.Redact(body);
        }

        if (data.Exception is { } exception)
        {
            // The exporter would write the exception's own text; it goes out redacted, as attributes, instead.
            data.Exception = null;
            data.Attributes = [.. data.Attributes ?? [],
                new("exception.type", exception.GetType().FullName),
                new("exception.message", Redaction.Redact(exception.Message)),
                new("exception.stacktrace", Redaction.Redact(exception.ToString()))];
        }

        if (data.Attributes is { Count: > 0 } attributes)
        {
            List<KeyValuePair<string, object?>>? copy = null;
            for (var i = 0; i < attributes.Count; i++)
            {
                if (attributes[i].Value is string value && Redaction.Redact(value) is var redacted && !ReferenceEquals(redacted, value))
                {
                    copy ??= [.. attributes];
                    copy[i] = new(attributes[i].Key, redacted);
                }
            }

            if (copy is not null)
            {
                data.Attributes = copy;
            }
        }
    }
}
