using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Flowith2Api.Tests.Infrastructure;

/// <summary>
/// The scan of everything the services log and trace during the whole test run (issue 12): every log line of every
/// service a <see cref="GatewayCluster"/> starts, at its raw level (before the product's own redaction), and every
/// span that ends in this process (name, tags, events, status, as exported), is checked for anything shaped like a Flowith
/// credential, an API key or the test secrets. Findings go to <c>artifacts/secret-scan/</c>; <c>build.sh test</c>
/// fails the run when there are any.
/// </summary>
public static partial class SecretScan
{
    private static readonly Lock Gate = new();
    private static readonly string Directory = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "secret-scan");
    private static long _linesScanned;
    private static long _spansScanned;
    private static ActivityListener? _listener;

    /// <summary>Credentials and keys in full (a mask like <c>flo…0001</c> never matches), and the run's configured secrets.</summary>
    [GeneratedRegex(@"flo_[A-Za-z0-9_\-]{6,}|sk-[A-Za-z0-9_\-]{10,}|test-internal-secret-[0-9a-f]+|test-credential-encryption-key", RegexOptions.CultureInvariant)]
    private static partial Regex Secret();

    private static readonly Provider LoggerProvider = new();

    /// <summary>Adds the scan to a service's logging, at Debug for our code and Information for the frameworks, whatever LOG_LEVEL says.</summary>
    public static void AddTo(ILoggingBuilder logging)
    {
        logging.AddProvider(LoggerProvider);
        logging.AddFilter<Provider>(null, LogLevel.Debug);
    }

    /// <summary>Starts listening to every span of the process (once).</summary>
    public static void Start()
    {
        lock (Gate)
        {
            if (_listener is not null)
            {
                return;
            }

            System.IO.Directory.CreateDirectory(Directory);
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name.StartsWith("Flowith2Api", StringComparison.Ordinal)
                    || source.Name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || source.Name.StartsWith("Yarp", StringComparison.Ordinal)
                    || source.Name.StartsWith("System.Net.Http", StringComparison.Ordinal) || source.Name.Contains("Redis", StringComparison.Ordinal)
                    || source.Name.StartsWith("Npgsql", StringComparison.Ordinal),
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                // Looked at a moment later: the span as exported, after the product's redaction processor (another
                // listener of the same Stop) has done its work.
                ActivityStopped = static activity => _ = Task.Delay(100).ContinueWith(_ => Check(activity), TaskScheduler.Default),
            };
            ActivitySource.AddActivityListener(_listener);
        }
    }

    private static void Check(Activity activity)
    {
        Interlocked.Increment(ref _spansScanned);
        Inspect("span " + activity.Source.Name, activity.DisplayName);
        Inspect("span " + activity.Source.Name, activity.StatusDescription);
        foreach (var (key, value) in activity.TagObjects)
        {
            Inspect($"span {activity.DisplayName} tag {key}", value?.ToString());
        }

        foreach (var activityEvent in activity.Events)
        {
            Inspect($"span {activity.DisplayName} event", activityEvent.Name);
            foreach (var (key, value) in activityEvent.Tags)
            {
                Inspect($"span {activity.DisplayName} event tag {key}", value?.ToString());
            }
        }
    }

    private static void Inspect(string where, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        var match = Secret().Match(text);
        if (!match.Success)
        {
            return;
        }

        lock (Gate)
        {
            File.AppendAllText(Path.Combine(Directory, $"findings-{Environment.ProcessId}.txt"),
                $"{where}: «{match.Value}» in: {(text.Length > 400 ? text[..400] + "…" : text)}{Environment.NewLine}");
        }
    }

    /// <summary>How much was looked at (written next to the findings, so an empty scan is not mistaken for a thorough one).</summary>
    public static void WriteSummary()
    {
        lock (Gate)
        {
            File.WriteAllText(Path.Combine(Directory, $"summary-{Environment.ProcessId}.txt"),
                $"log lines scanned: {Interlocked.Read(ref _linesScanned)}, spans scanned: {Interlocked.Read(ref _spansScanned)}{Environment.NewLine}");
        }
    }

    private sealed class Provider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(string category) : ILogger
    {
        /// <summary>Scopes too (request path, connection and trace ids, the product's own scopes): their text and each field.</summary>
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            Inspect($"log {category} scope", state.ToString());
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    Inspect($"log {category} scope field {key}", value?.ToString());
                }
            }

            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => logLevel >= (category.StartsWith("Flowith2Api", StringComparison.Ordinal) ? LogLevel.Debug : LogLevel.Information);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            Interlocked.Increment(ref _linesScanned);
            Inspect($"log {category} {logLevel}", formatter(state, exception));
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    Inspect($"log {category} field {key}", value?.ToString());
                }
            }

            for (var e = exception; e is not null; e = e.InnerException)
            {
                Inspect($"log {category} exception", e.Message);
            }
        }
    }
}
