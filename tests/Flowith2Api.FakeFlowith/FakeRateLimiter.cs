using System.Collections.Concurrent;

namespace Flowith2Api.FakeFlowith;

/// <summary>A sliding-window request counter per token (only requests subject to a limit count).</summary>
internal sealed class FakeRateLimiter(TimeSpan window)
{
    private readonly ConcurrentDictionary<string, Queue<long>> _windows = new(StringComparer.Ordinal);
    private readonly long _windowMs = (long)window.TotalMilliseconds;

    /// <summary>Counts a request; false (with the seconds until a slot frees) when the window is full.</summary>
    public bool TryAcquire(string token, int limit, out int retryAfterSeconds)
    {
        var now = Environment.TickCount64;
        var stamps = _windows.GetOrAdd(token, static _ => new Queue<long>());
        lock (stamps)
        {
            while (stamps.Count > 0 && now - stamps.Peek() >= _windowMs)
                stamps.Dequeue();

            if (stamps.Count >= limit)
            {
                var waitMs = stamps.Peek() + _windowMs - now;
                retryAfterSeconds = (int)Math.Max(1, (waitMs + 999) / 1000);
                return false;
            }

            stamps.Enqueue(now);
            retryAfterSeconds = 0;
            return true;
        }
    }

    public void Reset(string token) => _windows.TryRemove(token, out _);

    public void ResetAll() => _windows.Clear();
}
