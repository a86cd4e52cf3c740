using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Flowith2Api.FakeFlowith;

/// <summary>
/// A bounded ring buffer of the requests the fake server received (oldest dropped first), plus
/// a count of requests in flight per token. Capacity 0 disables recording (benchmarks).
/// </summary>
public sealed class FakeRequestLog
{
    private readonly RecordedRequest?[] _ring;
    private readonly List<Waiter> _waiters = [];
    private readonly ConcurrentDictionary<string, StrongBox<int>> _inFlight = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private int _head;
    private int _count;
    private long _sequence;
    private int _inFlightTotal;

    /// <summary>Creates a log holding at most <paramref name="capacity"/> requests.</summary>
    public FakeRequestLog(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _ring = new RecordedRequest?[capacity];
    }

    /// <summary>The most requests kept.</summary>
    public int Capacity => _ring.Length;

    /// <summary>False when the capacity is 0 and nothing is recorded.</summary>
    public bool IsEnabled => _ring.Length > 0;

    /// <summary>How many requests are kept now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _count;
        }
    }

    /// <summary>How many requests were recorded since start (including dropped and cleared ones).</summary>
    public long TotalRecorded => Interlocked.Read(ref _sequence);

    /// <summary>A snapshot of the kept requests, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> All
    {
        get
        {
            lock (_lock)
            {
                var list = new RecordedRequest[_count];
                for (var i = 0; i < _count; i++)
                    list[i] = _ring[(_head + i) % _ring.Length]!;
                return list;
            }
        }
    }

    /// <summary>The kept requests made with <paramref name="token"/>, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> ForToken(string token) =>
        All.Where(r => string.Equals(r.Token, token, StringComparison.Ordinal)).ToList();

    /// <summary>Requests with <paramref name="token"/> being answered right now.</summary>
    public int InFlight(string token) => _inFlight.TryGetValue(token, out var box) ? Volatile.Read(ref box.Value) : 0;

    /// <summary>Requests being answered right now.</summary>
    public int InFlightTotal => Volatile.Read(ref _inFlightTotal);

    /// <summary>Forgets the kept requests (waiters keep waiting).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            Array.Clear(_ring);
            _head = 0;
            _count = 0;
        }
    }

    /// <summary>
    /// The first kept request (already recorded or arriving later) that matches
    /// <paramref name="predicate"/>.
    /// </summary>
    /// <exception cref="TimeoutException">None matched within <paramref name="timeout"/>.</exception>
    public async Task<RecordedRequest> WaitForAsync(Func<RecordedRequest, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        if (!IsEnabled)
            throw new InvalidOperationException("Request recording is disabled (RecordCapacity is 0).");

        Waiter waiter;
        lock (_lock)
        {
            for (var i = 0; i < _count; i++)
            {
                var request = _ring[(_head + i) % _ring.Length]!;
                if (predicate(request))
                    return request;
            }

            waiter = new Waiter(predicate);
            _waiters.Add(waiter);
        }

        try
        {
            return await waiter.Completion.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"No recorded request matched within {timeout.TotalSeconds:0.###} s ({Count} kept).", ex);
        }
        finally
        {
            lock (_lock)
                _waiters.Remove(waiter);
        }
    }

    internal void Add(RecordedRequest request)
    {
        if (!IsEnabled)
            return;

        List<Waiter>? matched = null;
        lock (_lock)
        {
            if (_count < _ring.Length)
            {
                _ring[(_head + _count) % _ring.Length] = request;
                _count++;
            }
            else
            {
                _ring[_head] = request;
                _head = (_head + 1) % _ring.Length;
            }

            foreach (var waiter in _waiters)
            {
                bool isMatch;
                try
                {
                    isMatch = waiter.Predicate(request);
                }
                catch (Exception ex)
                {
                    waiter.Completion.TrySetException(ex);
                    continue;
                }

                if (isMatch)
                    (matched ??= []).Add(waiter);
            }
        }

        if (matched is not null)
        {
            foreach (var waiter in matched)
                waiter.Completion.TrySetResult(request);
        }
    }

    internal long NextSequence() => Interlocked.Increment(ref _sequence);

    internal void Enter(string? token)
    {
        Interlocked.Increment(ref _inFlightTotal);
        if (token is not null)
            Interlocked.Increment(ref _inFlight.GetOrAdd(token, static _ => new StrongBox<int>()).Value);
    }

    internal void Exit(string? token)
    {
        Interlocked.Decrement(ref _inFlightTotal);
        if (token is not null && _inFlight.TryGetValue(token, out var box))
            Interlocked.Decrement(ref box.Value);
    }

    private sealed class Waiter(Func<RecordedRequest, bool> predicate)
    {
        public Func<RecordedRequest, bool> Predicate { get; } = predicate;

        public TaskCompletionSource<RecordedRequest> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
