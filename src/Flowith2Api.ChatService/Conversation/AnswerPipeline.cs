using System.Text;
using Flowith2Api.ChatService.Upstream.Seek;

namespace Flowith2Api.ChatService.Conversation;

public enum AnswerEventKind
{
    Reasoning,
    Text,
    ToolCall,
}

/// <summary>One thing to send to the client, whatever its dialect.</summary>
public readonly record struct AnswerEvent(AnswerEventKind Kind, string Text = "", ToolCall? Call = null);

/// <summary>A finished answer as the dialect writers need it: text, reasoning, the client's tool calls, how it ended.</summary>
public sealed record AnswerSummary(string Text, string Reasoning, IReadOnlyList<ToolCall> ToolCalls, string? StopSequence, string OutputForCounting)
{
    /// <summary>The answer as the assistant's message of the conversation (its text and its tool calls; not its reasoning).</summary>
    public ConversationMessage ToMessage() => new(ConversationRole.Assistant,
        [.. Text.Length > 0 || ToolCalls.Count == 0 ? [new TextPart(Text)] : Array.Empty<ContentPart>(), .. ToolCalls.Select(c => new ToolCallPart(c.Id, c.Name, c.ArgumentsJson))]);
}

/// <summary>Why an answer ended, in dialect-neutral terms.</summary>
public enum AnswerFinish
{
    EndTurn,
    MaxTokens,
    StopSequence,
    ToolUse,
}

/// <summary>
/// Upstream text → what the client receives, the same for every dialect and for streamed and whole answers:
/// <c>&lt;think&gt;</c> becomes reasoning, tool-call text becomes tool calls, stop sequences end the answer, the token
/// budget cuts it, and in a JSON mode the text is held back and becomes the JSON itself at the end. Text after the tool
/// calls is dropped (the model must wait for the results, not invent them).
/// </summary>
public sealed class AnswerPipeline
{
    private readonly ThinkSplitter _think;
    private readonly ToolCallParser? _tools;
    private readonly StopSequenceFilter _stops;
    private readonly bool _parallel;
    private readonly StringBuilder _reasoning = new();
    private readonly StringBuilder _text = new();
    private readonly List<ToolCall> _calls = [];
    private readonly TokenBudget _budget;
    private readonly OutputFormat _format;
    private readonly StringBuilder? _json;

    /// <param name="budget">The turn's output budget, shared by its tool rounds; none: unlimited.</param>
    public AnswerPipeline(ConversationRequest request, bool thinkingTags, ILogger logger, TokenBudget? budget = null)
    {
        _think = new ThinkSplitter(thinkingTags);
        _tools = request.ToolsActive ? new ToolCallParser(request.Tools, logger) : null;
        _stops = new StopSequenceFilter(request.Stop);
        _parallel = request.ParallelToolCalls;
        _budget = budget ?? TokenBudget.Unlimited();
        _format = request.Format;
        _json = request.Format.IsJson ? new StringBuilder() : null;
    }

    /// <summary>Nothing more will be emitted: reading the upstream can stop.</summary>
    public bool Finished => _stops.Stopped || (!_parallel && _calls.Count > 0) || _budget.Exhausted;

    public string? StopSequence => _stops.Matched;

    public IReadOnlyList<ToolCall> ToolCalls => _calls;

    public string Reasoning => _reasoning.ToString();

    public string Text => _text.ToString();

    /// <summary>Everything the turn's model output produced and kept, as text, for counting output tokens.</summary>
    public string OutputForCounting => _budget.Output;

    /// <summary>The budget ran out: the answer was cut there.</summary>
    public bool BudgetExhausted => _budget.Exhausted;

    public AnswerSummary Summary() => new(Text, Reasoning, _calls, StopSequence, OutputForCounting);

    public IReadOnlyList<AnswerEvent> Push(string piece) => Process(_think.Push(piece), final: false);

    public IReadOnlyList<AnswerEvent> Flush() => Process(_think.Flush(), final: true);

    /// <summary>Runs a whole (non-streamed) answer through the pipeline.</summary>
    public AnswerPipeline Complete(string text)
    {
        Push(text);
        Flush();
        return this;
    }

    public AnswerFinish Finish(int? maxTokens, int outputTokens) =>
        _calls.Count > 0 ? AnswerFinish.ToolUse
        : _stops.Stopped ? AnswerFinish.StopSequence
        : _budget.Exhausted || maxTokens is { } max && outputTokens >= max ? AnswerFinish.MaxTokens
        : AnswerFinish.EndTurn;

    private List<AnswerEvent> Process(IReadOnlyList<AnswerPiece> pieces, bool final)
    {
        var output = new List<AnswerEvent>(pieces.Count + 1);
        foreach (var piece in pieces)
        {
            if (piece.IsReasoning)
            {
                if (!Finished && _calls.Count == 0 && _budget.Take(piece.Text) is { Length: > 0 } reasoning)
                {
                    _reasoning.Append(reasoning);
                    output.Add(new AnswerEvent(AnswerEventKind.Reasoning, reasoning));
                }

                continue;
            }

            if (_tools is null)
            {
                AddText(output, piece.Text);
            }
            else
            {
                AddItems(output, _tools.Push(piece.Text));
            }
        }

        if (final)
        {
            if (_tools is not null)
            {
                AddItems(output, _tools.Flush());
            }

            if (_calls.Count == 0)
            {
                AppendText(output, _stops.Flush());
                if (_json is not null)
                {
                    ReleaseJson(output);
                }
            }
        }

        return output;
    }

    /// <summary>
    /// The held-back text of a JSON mode, as the JSON itself. A cut answer (the budget ran out) goes as it is, without
    /// its fence or preamble, as OpenAI sends a JSON cut at <c>length</c>; an answer with no JSON that fits is an error.
    /// </summary>
    private void ReleaseJson(List<AnswerEvent> output)
    {
        var raw = _json!.ToString();
        string json;
        if (_budget.Exhausted)
        {
            var start = raw.IndexOfAny(['{', '[']);
            json = start < 0 ? raw.Trim() : raw[start..];
        }
        else
        {
            json = JsonOutput.Extract(raw, _format, out var problem)
                ?? throw new UpstreamException(UpstreamFailureKind.InvalidOutput,
                    $"The model's answer could not be made into the JSON this request asks for: {problem}.");
        }

        if (json.Length > 0)
        {
            _text.Append(json);
            output.Add(new AnswerEvent(AnswerEventKind.Text, json));
        }
    }

    private void AddItems(List<AnswerEvent> output, IReadOnlyList<(string? Text, ToolCall? Call)> items)
    {
        foreach (var (text, call) in items)
        {
            if (call is not null)
            {
                if (Finished || (!_parallel && _calls.Count > 0))
                {
                    continue;
                }

                if (!_budget.TakeWhole(call.Name + call.ArgumentsJson))
                {
                    continue; // does not fit: the answer ends here, at the budget
                }

                if (_calls.Count == 0)
                {
                    AppendText(output, _stops.Flush());
                }

                var indexed = call with { Index = _calls.Count };
                _calls.Add(indexed);
                output.Add(new AnswerEvent(AnswerEventKind.ToolCall, Call: indexed));
            }
            else if (_calls.Count == 0)
            {
                AddText(output, text!);
            }
        }
    }

    private void AddText(List<AnswerEvent> output, string text)
    {
        if (!Finished)
        {
            AppendText(output, _stops.Push(text));
        }
    }

    private void AppendText(List<AnswerEvent> output, string text)
    {
        if (text.Length == 0 || _budget.Take(text) is not { Length: > 0 } kept)
        {
            return;
        }

        if (_json is not null)
        {
            _json.Append(kept); // held back until the whole answer is known
            return;
        }

        _text.Append(kept);
        output.Add(new AnswerEvent(AnswerEventKind.Text, kept));
    }
}
