using Microsoft.Extensions.DependencyInjection;

namespace Flowith2Api.ServiceDefaults;

public static class HttpClientBuilderExtensions
{
    /// <summary>
    /// Takes the default resilience handler off a client that calls the outside world (the Flowith upstream, tool
    /// backends): it would retry POSTs (spending credits, repeating side effects) and cap every attempt at 10 s. Such
    /// clients apply their own, explicit policies.
    /// </summary>
    public static IHttpClientBuilder WithoutDefaultResilience(this IHttpClientBuilder builder)
    {
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental; it is exactly what is needed here.
        return builder.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
    }
}
