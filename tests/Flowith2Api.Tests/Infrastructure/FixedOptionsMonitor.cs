using Microsoft.Extensions.Options;

namespace Flowith2Api.Tests.Infrastructure;

/// <summary>An options monitor whose value never changes, for unit tests of classes that follow live settings.</summary>
public sealed class FixedOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue { get; } = value;

    public T Get(string? name) => CurrentValue;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
