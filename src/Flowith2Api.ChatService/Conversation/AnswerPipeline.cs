using System.Text;
using Flowith2Api.ChatService.Tools;

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
public sealed record AnswerSummary(string Text, string Reasoning, IReadOnlyList<ToolCall> ToolCalls, string? StopSequence, string OutputForCounting);

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
/// <c>&lt;think&gt;</c> becomes reasoning, tool-call text becomes tool calls, stop sequences end the answer. Text after
/// the tool calls is dropped (the model must wait for the results, not invent them).
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

    public AnswerPipeline(ConversationRequest request, bool thinkingTags, ILogger logger)
    {
        _think = new ThinkSplitter(thinkingTags);
        _tools = request.ToolsActive ? new ToolCallParser(request.Tools, logger) : null;
        _stops = new StopSequenceFilter(request.Stop);
        _parallel = request.ParallelToolCalls;
    }

    /// <summary>Nothing more will be emitted: reading the upstream can stop.</summary>
    public bool Finished => _stops.Stopped || (!_parallel && _calls.Count > 0);

    public string? StopSequence => _stops.Matched;

    public IReadOnlyList<ToolCall> ToolCalls => _calls;

    public string Reasoning => _reasoning.ToString();

    public string Text => _text.ToString();

    /// <summary>Everything the answer produced, as text, for counting output tokens.</summary>
    public string OutputForCounting => _calls.Count == 0
        ? _reasoning.ToString() + _text
        : _reasoning.ToString() + _text + string.Concat(_calls.Select(c => c.Name + c.ArgumentsJson));

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
        : maxTokens is { } max && outputTokens >= max ? AnswerFinish.MaxTokens
        : AnswerFinish.EndTurn;

    private List<AnswerEvent> Process(IReadOnlyList<AnswerPiece> pieces, bool final)
    {
        var output = new List<AnswerEvent>(pieces.Count + 1);
        foreach (var piece in pieces)
        {
            if (piece.IsReasoning)
            {
                if (!Finished && _calls.Count == 0)
                {
                    _reasoning.Append(piece.Text);
                    output.Add(new AnswerEvent(AnswerEventKind.Reasoning, piece.Text));
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
            }
        }

        return output;
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
        if (text.Length > 0)
        {
            _text.Append(text);
            output.Add(new AnswerEvent(AnswerEventKind.Text, text));
        }
    }
}
