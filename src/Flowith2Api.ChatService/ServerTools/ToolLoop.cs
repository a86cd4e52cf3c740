using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.ServerTools;

/// <summary>What a whole turn produced across its tool rounds, for the writers, usage and the session.</summary>
public sealed class LoopState(TokenBudget budget)
{
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _reasoning = new();

    /// <summary>The turn's output budget, shared by its rounds.</summary>
    public TokenBudget Budget { get; } = budget;

    public IReadOnlyList<ToolCall> ClientToolCalls { get; private set; } = [];

    public string? StopSequence { get; private set; }

    internal void Add(AnswerEvent item)
    {
        if (item.Kind == AnswerEventKind.Text)
        {
            _text.Append(item.Text);
        }
        else if (item.Kind == AnswerEventKind.Reasoning)
        {
            _reasoning.Append(item.Text);
        }
    }

    internal void EndRound(AnswerPipeline pipeline, IReadOnlySet<string> serverTools)
    {
        ClientToolCalls = [.. pipeline.ToolCalls.Where(c => !serverTools.Contains(c.Name))];
        StopSequence = pipeline.StopSequence;
    }

    public AnswerSummary Summary() => new(_text.ToString(), _reasoning.ToString(), ClientToolCalls, StopSequence, Budget.Output);

    public AnswerFinish Finish(int? maxTokens, int outputTokens) =>
        ClientToolCalls.Count > 0 ? AnswerFinish.ToolUse
        : StopSequence is not null ? AnswerFinish.StopSequence
        : Budget.Exhausted || maxTokens is { } max && outputTokens >= max ? AnswerFinish.MaxTokens
        : AnswerFinish.EndTurn;
}

/// <summary>
/// The server-side tool loop: offers the ToolService's tools to the model next to the client's (a client tool of the
/// same name wins), runs the calls the model makes to server tools, feeds the results back and asks again, up to
/// <c>MAX_TOOL_ROUNDS</c> rounds, streamed or not. Calls to client tools end the turn and go back to the client. While
/// tools run, the stream shows what is happening as reasoning text.
/// </summary>
public sealed partial class ToolLoop(ChatExecutor executor, ToolServiceClient tools, IOptionsMonitor<ServerToolOptions> options,
    IOptionsMonitor<ChatOptions> chat, TokenCounter tokens, ILogger<ToolLoop> logger)
{
    /// <summary>The state of a new turn, with its output budget.</summary>
    public LoopState NewState(ConversationRequest request) => new(new TokenBudget(tokens, request.MaxTokens));

    /// <summary>
    /// Adds the server tools to the request; returns their names (empty when none are offered). They are offered when
    /// <c>MCP_TOOLS</c> names them or CLI mode is on (all the enabled ones), or when the request asks for one by a
    /// hosted tool of its dialect (that one) — as in the original project, a plain chat carries no tool prompt.
    /// </summary>
    public async Task<(ConversationRequest Request, IReadOnlySet<string> ServerTools)> OfferAsync(ConversationRequest request, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var offerAll = settings.CliMode || settings.AllowedTools.Count > 0;
        if (request.ToolChoice.Mode == ToolChoiceMode.None || !offerAll && request.RequestedServerTools.Count == 0)
        {
            return (request, EmptySet);
        }

        var clientNames = request.Tools.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var server = (await tools.ToolsAsync(cancellationToken))
            .Where(t => !clientNames.Contains(t.Name) && (offerAll || request.RequestedServerTools.Contains(t.Name)))
            .ToList();
        if (server.Count == 0)
        {
            return (request, EmptySet);
        }

        var messages = request.Messages.ToList();
        var prompts = new[] { settings.McpPrompt, settings.CliMode ? settings.CliPrompt : null }.Where(p => !string.IsNullOrWhiteSpace(p)).ToList();
        if (prompts.Count > 0)
        {
            messages.Insert(0, new ConversationMessage(ConversationRole.System, string.Join("\n\n", prompts)));
        }

        return (request with { Tools = [.. request.Tools, .. server], Messages = messages }, server.Select(t => t.Name).ToHashSet(StringComparer.Ordinal));
    }

    public async Task<LoopState> CompleteAsync(ConversationRequest request, IReadOnlySet<string> serverTools, ChatCall call, string keyId,
        CancellationToken cancellationToken)
    {
        var state = NewState(request);
        for (var round = 1; ; round++)
        {
            var text = await executor.CompleteAsync(request, call, cancellationToken);
            var pipeline = new AnswerPipeline(request, chat.CurrentValue.EnableThinkingTags, logger, state.Budget);
            foreach (var item in pipeline.Push(text).Concat(pipeline.Flush()))
            {
                if (!IsServerCall(item, serverTools))
                {
                    state.Add(item);
                }
            }

            state.EndRound(pipeline, serverTools);
            if (!RunsServerTools(pipeline, serverTools, round))
            {
                return state;
            }

            var (messages, notes) = await RunToolsAsync(pipeline, keyId, cancellationToken);
            foreach (var note in notes)
            {
                state.Add(note);
            }

            request = request with { Messages = [.. request.Messages, .. messages] };
        }
    }

    /// <summary>The events of every round of a streamed turn; the first round's stream is already started.</summary>
    public async IAsyncEnumerable<AnswerEvent> StreamAsync(StartedAnswer first, ConversationRequest request, IReadOnlySet<string> serverTools,
        ChatCall call, string keyId, LoopState state, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var current = first;
        for (var round = 1; ; round++)
        {
            var pipeline = new AnswerPipeline(request, chat.CurrentValue.EnableThinkingTags, logger, state.Budget);
            await using (current)
            {
                await foreach (var piece in current.ReadAllAsync().WithCancellation(cancellationToken))
                {
                    foreach (var item in pipeline.Push(piece))
                    {
                        if (!IsServerCall(item, serverTools))
                        {
                            state.Add(item);
                            yield return item;
                        }
                    }

                    if (pipeline.Finished)
                    {
                        break; // disposing the stream cancels the upstream call
                    }
                }
            }

            foreach (var item in pipeline.Flush())
            {
                if (!IsServerCall(item, serverTools))
                {
                    state.Add(item);
                    yield return item;
                }
            }

            state.EndRound(pipeline, serverTools);
            if (!RunsServerTools(pipeline, serverTools, round))
            {
                yield break;
            }

            foreach (var toolCall in pipeline.ToolCalls)
            {
                var note = new AnswerEvent(AnswerEventKind.Reasoning, $"\n[running {toolCall.Name} {Shorten(toolCall.ArgumentsJson)}]\n");
                state.Add(note);
                yield return note;
            }

            var (messages, notes) = await RunToolsAsync(pipeline, keyId, cancellationToken);
            foreach (var note in notes)
            {
                state.Add(note);
                yield return note;
            }

            request = request with { Messages = [.. request.Messages, .. messages] };
            current = await executor.StartStreamAsync(request, call, cancellationToken);
        }
    }

    private bool RunsServerTools(AnswerPipeline pipeline, IReadOnlySet<string> serverTools, int round)
    {
        if (pipeline.ToolCalls.Count == 0 || !pipeline.ToolCalls.All(c => serverTools.Contains(c.Name)) || pipeline.BudgetExhausted)
        {
            return false; // no server call, a client call among them (the client's turn), or no budget left for another round
        }

        if (round >= options.CurrentValue.MaxRounds)
        {
            LogMaxRounds(logger, round);
            return false;
        }

        return true;
    }

    /// <summary>Runs the round's calls; the model's calls and their results go into the conversation for the next round.</summary>
    private async Task<(List<ConversationMessage> Messages, List<AnswerEvent> Notes)> RunToolsAsync(AnswerPipeline pipeline, string keyId, CancellationToken cancellationToken)
    {
        List<ContentPart> assistant = pipeline.Text.Length > 0 ? [new TextPart(pipeline.Text)] : [];
        var results = new List<ContentPart>();
        var notes = new List<AnswerEvent>();
        foreach (var toolCall in pipeline.ToolCalls)
        {
            assistant.Add(new ToolCallPart(toolCall.Id, toolCall.Name, toolCall.ArgumentsJson));
            var (isError, text) = await tools.ExecuteAsync(toolCall.Name, toolCall.ArgumentsJson, keyId, cancellationToken);
            LogToolRan(logger, toolCall.Name, isError);
            results.Add(new ToolResultPart(toolCall.Id, toolCall.Name, [new TextPart(text)], isError));
            notes.Add(new AnswerEvent(AnswerEventKind.Reasoning, $"[{toolCall.Name} {(isError ? "failed" : "done")}]\n"));
        }

        return ([new ConversationMessage(ConversationRole.Assistant, assistant), new ConversationMessage(ConversationRole.User, results)], notes);
    }

    private static bool IsServerCall(AnswerEvent item, IReadOnlySet<string> serverTools) =>
        item.Kind == AnswerEventKind.ToolCall && serverTools.Contains(item.Call!.Name);

    private static string Shorten(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 200), "…");

    private static readonly IReadOnlySet<string> EmptySet = new HashSet<string>();

    [LoggerMessage(Level = LogLevel.Information, Message = "Server tool {Tool} ran (error: {IsError})")]
    private static partial void LogToolRan(ILogger logger, string tool, bool isError);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The tool loop stopped after {Rounds} rounds (MAX_TOOL_ROUNDS)")]
    private static partial void LogMaxRounds(ILogger logger, int rounds);
}
