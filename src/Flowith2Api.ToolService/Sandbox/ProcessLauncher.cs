using System.Collections.Concurrent;
using System.Diagnostics;

namespace Flowith2Api.ToolService.Sandbox;

/// <summary>
/// Starts processes from one dedicated thread that lives as long as the service. bubblewrap's
/// <c>--die-with-parent</c> (PR_SET_PDEATHSIG) fires when the <em>thread</em> that forked bubblewrap exits, and
/// thread-pool threads come and go; forking from a permanent thread makes that signal mean "the service died".
/// </summary>
internal static class ProcessLauncher
{
    private static readonly BlockingCollection<(Process Process, TaskCompletionSource Started)> Pending = [];
    private static readonly Lock Gate = new();
    private static Thread? _thread;

    public static Task StartAsync(Process process)
    {
        EnsureThread();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pending.Add((process, started));
        return started.Task;
    }

    private static void EnsureThread()
    {
        lock (Gate)
        {
            if (_thread is not null)
            {
                return;
            }

            _thread = new Thread(Run) { IsBackground = true, Name = "sandbox-launcher" };
            _thread.Start();
        }
    }

    private static void Run()
    {
        foreach (var (process, started) in Pending.GetConsumingEnumerable())
        {
            try
            {
                process.Start();
                started.SetResult();
            }
            catch (Exception ex)
            {
                started.SetException(ex);
            }
        }
    }
}
