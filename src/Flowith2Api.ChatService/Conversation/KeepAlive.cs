namespace Flowith2Api.ChatService.Conversation;

/// <summary>Awaits upstream work while sending keep-alives on a committed stream when it takes long.</summary>
public static class KeepAlive
{
    /// <param name="interval">How long a silence may last; <see cref="Timeout.InfiniteTimeSpan"/>: no keep-alives.</param>
    public static async Task<T> AwaitAsync<T>(Task<T> task, TimeSpan interval, Func<Task> ping, CancellationToken cancellationToken)
    {
        if (interval == Timeout.InfiniteTimeSpan)
        {
            return await task;
        }

        while (true)
        {
            try
            {
                return await task.WaitAsync(interval, cancellationToken);
            }
            catch (TimeoutException) when (!task.IsCompleted)
            {
                await ping();
            }
        }
    }

    public static ValueTask<bool> MoveNextAsync<T>(IAsyncEnumerator<T> pieces, TimeSpan interval, Func<Task> ping, CancellationToken cancellationToken)
    {
        var move = pieces.MoveNextAsync();
        return move.IsCompleted || interval == Timeout.InfiniteTimeSpan ? move : new ValueTask<bool>(AwaitAsync(move.AsTask(), interval, ping, cancellationToken));
    }
}
