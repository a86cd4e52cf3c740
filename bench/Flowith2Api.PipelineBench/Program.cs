using System.Diagnostics;
using System.Runtime.CompilerServices;
using Flowith2Api.ChatService.Conversation;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowith2Api.PipelineBench;

/// <summary>
/// What carrying a streamed answer through the turn's stages costs per piece, measured two ways:
/// <list type="bullet">
/// <item>our own shape: the real <see cref="AnswerPipeline"/> (think split, tool-call parsing, stops, budget) on each
/// upstream piece, its <see cref="AnswerEvent"/> structs passing through the two async iterators a turn has;</item>
/// <item>Microsoft.Extensions.AI's: every piece a <see cref="ChatResponseUpdate"/> with a <see cref="TextContent"/>,
/// passed through one <see cref="DelegatingChatClient"/> per stage the issue lists (failover, sessions, prompt shaping,
/// thinking split, stop sequences, token budget, JSON mode, tool-call emulation, server tool loop, usage, telemetry):
/// eleven layers that re-yield what they get — the transport alone, before any stage does its work.</item>
/// </list>
/// <c>dotnet run -c Release --project bench/Flowith2Api.PipelineBench</c>; results in docs/architecture.md.
/// </summary>
public static class Program
{
    private const int Pieces = 200;
    private const int Rounds = 2_000;
    private const int Layers = 11;

    public static async Task Main()
    {
        var pieces = Enumerable.Range(0, Pieces).Select(i => i % 10 == 0 ? $"word{i}, " : $"w{i} ").ToArray();
        var request = new ConversationRequest { Messages = [], PublicModel = "flowith", MaxTokens = 100_000 };
        var tokens = new TokenCounter();

        Console.WriteLine($"{Pieces} pieces a stream, {Rounds} streams each, after warm-up (every case twice: the second is steady state):");
        for (var pass = 0; pass < 2; pass++)
        {
            await MeasureAllAsync(pieces, request, tokens);
        }
    }

    private static async Task MeasureAllAsync(string[] pieces, ConversationRequest request, TokenCounter tokens)
    {
        await MeasureAsync("own events, real pipeline, no budget (2 iterator hops)", 200, () => OwnAsync(pieces, request with { MaxTokens = null }, tokens));
        await MeasureAsync("own events, real pipeline, a budget (2 iterator hops)", 200, () => OwnAsync(pieces, request, tokens));
        await MeasureAsync("own events, transport only (2 iterator hops)", 200, () => OwnTransportAsync(pieces));
        await MeasureAsync($"MEAI updates, transport only ({Layers} DelegatingChatClients)", 200, () => MeaiAsync(pieces));
    }

    private static async Task MeasureAsync(string name, int warmup, Func<Task<int>> run)
    {
        for (var i = 0; i < warmup; i++)
        {
            await run();
        }

        GC.Collect();
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var gen0 = GC.CollectionCount(0);
        var clock = Stopwatch.StartNew();
        var seen = 0;
        for (var i = 0; i < Rounds; i++)
        {
            seen += await run();
        }

        clock.Stop();
        var perPiece = (double)Rounds * Pieces;
        Console.WriteLine($"  {name,-58} {clock.Elapsed.TotalNanoseconds / perPiece,8:F0} ns/piece  {(GC.GetAllocatedBytesForCurrentThread() - allocated) / perPiece,8:F0} B/piece  "
            + $"gen0 {GC.CollectionCount(0) - gen0,5}  ({seen / Rounds} events a stream)");
    }

    private static async Task<int> OwnAsync(string[] pieces, ConversationRequest request, TokenCounter tokens)
    {
        var pipeline = new AnswerPipeline(request, thinkingTags: true, NullLogger.Instance, new TokenBudget(tokens, request.MaxTokens));
        var count = 0;
        await foreach (var item in ThroughPipeline(Upstream(pieces), pipeline))
        {
            count += item.Text.Length > 0 ? 1 : 0;
        }

        return count;
    }

    private static async IAsyncEnumerable<AnswerEvent> ThroughPipeline(IAsyncEnumerable<string> upstream, AnswerPipeline pipeline)
    {
        await foreach (var piece in upstream)
        {
            foreach (var item in pipeline.Push(piece))
            {
                yield return item;
            }
        }

        foreach (var item in pipeline.Flush())
        {
            yield return item;
        }
    }

    private static async Task<int> OwnTransportAsync(string[] pieces)
    {
        var count = 0;
        await foreach (var item in Relay(Events(Upstream(pieces))))
        {
            count += item.Text.Length > 0 ? 1 : 0;
        }

        return count;
    }

    private static async IAsyncEnumerable<AnswerEvent> Events(IAsyncEnumerable<string> upstream)
    {
        await foreach (var piece in upstream)
        {
            yield return new AnswerEvent(AnswerEventKind.Text, piece);
        }
    }

    private static async IAsyncEnumerable<AnswerEvent> Relay(IAsyncEnumerable<AnswerEvent> events)
    {
        await foreach (var item in events)
        {
            yield return item;
        }
    }

    private static async Task<int> MeaiAsync(string[] pieces)
    {
        IChatClient client = new UpstreamClient(pieces);
        for (var i = 0; i < Layers; i++)
        {
            client = new PassThroughClient(client);
        }

        var count = 0;
        await foreach (var update in client.GetStreamingResponseAsync([]))
        {
            count += update.Text.Length > 0 ? 1 : 0;
        }

        return count;
    }

    /// <summary>The upstream's pieces, as a network read gives them: each one after a completed read.</summary>
    private static async IAsyncEnumerable<string> Upstream(string[] pieces, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var piece in pieces)
        {
            await Task.CompletedTask;
            yield return piece;
        }
    }

    private sealed class UpstreamClient(string[] pieces) : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, Microsoft.Extensions.AI.ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, Microsoft.Extensions.AI.ChatOptions? options = null,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var piece in Upstream(pieces, cancellationToken))
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, piece);
            }
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>A stage that looks at every update and passes it on, as each of ours would have to.</summary>
    private sealed class PassThroughClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, Microsoft.Extensions.AI.ChatOptions? options = null,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
            {
                yield return update;
            }
        }
    }
}
