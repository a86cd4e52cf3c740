using System.Buffers;
using System.Text;

namespace Flowith2Api.ChatService.Dialects;

/// <summary>
/// The server-sent-events framing every dialect's stream shares: <c>event: {name}</c> when the event has a name, then
/// <c>data: {json}</c> and a blank line, written straight into the response pipe (the caller flushes each event).
/// </summary>
public abstract class SseEventWriter : IDisposable
{
    protected SseEventWriter(HttpResponse response)
    {
        Pipe = response.BodyWriter;
        Json = new Utf8JsonWriter(Pipe);
    }

    protected PipeWriter Pipe { get; }

    protected Utf8JsonWriter Json { get; }

    /// <summary>Starts an event: its name line (when it has one), then its data line, which <see cref="Json"/> fills.</summary>
    protected void BeginEvent(string? name = null)
    {
        if (name is not null)
        {
            Pipe.Write("event: "u8);
            Encoding.UTF8.GetBytes(name, Pipe); // straight into the pipe, no array per event
            Pipe.Write("\n"u8);
        }

        Pipe.Write("data: "u8);
        Json.Reset(Pipe);
    }

    /// <summary>Ends the event begun last.</summary>
    protected void EndEvent()
    {
        Json.Flush();
        Pipe.Write("\n\n"u8);
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Json.Dispose();
        }
    }
}
