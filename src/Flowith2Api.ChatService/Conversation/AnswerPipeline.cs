using System.Text;
using Flowith2Api.ChatService.Tools;
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
/// budget cuts it, and in a JSON mode the content is the JSON itself (streamed as it comes when it opens a line, else
/// held back and extracted at the end). When the client forces one tool and the model answers with that tool's
/// arguments as JSON instead of calling it, the answer is the call. Text after the tool calls is dropped (the model must
/// wait for the results, not invent them).
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
    private readonly JsonStreamGate? _gate;
    private readonly ToolDefinition? _forced;
    private readonly StringBuilder? _held;

    /// <param name="budget">The turn's output budget, shared by its tool rounds; none: unlimited.</param>
    public AnswerPipeline(ConversationRequest request, bool thinkingTags, ILogger logger, TokenBudget? budget = null)
    {
        _think = new ThinkSplitter(thinkingTags);
        _tools = request.ToolsActive ? new ToolCallParser(request.Tools, logger) : null;
        _stops = new StopSequenceFilter(request.Stop);
        _parallel = request.ParallelToolCalls;
        _budget = budget ?? TokenBudget.Unlimited();
        _format = request.Format;
        // A whole answer is held and the best JSON in it taken; a stream lets the JSON through as it comes.
        _json = request.Format.IsJson && !request.Stream ? new StringBuilder() : null;
        _gate = request.Format.IsJson && request.Stream ? new JsonStreamGate(request.Format) : null;
        _forced = ForcedTool(request);
        _held = _forced is null ? null : new StringBuilder();
    }

    /// <summary>The one tool the answer must call (the named one, or the only one offered when a call is required).</summary>
    private static ToolDefinition? ForcedTool(ConversationRequest request) => !request.ToolsActive ? null : request.ToolChoice.Mode switch
    {
        ToolChoiceMode.Specific => request.Tools.FirstOrDefault(t => t.Name == request.ToolChoice.Name),
        ToolChoiceMode.Required when request.Tools.Count == 1 => request.Tools[0],
        _ => null,
    };

    /// <summary>Nothing more will be emitted: reading the upstream can stop.</summary>
    public bool Finished => _stops.Stopped || (!_parallel && _calls.Count > 0) || _budget.Exhausted || _gate is { Done: true };

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
                if (_held is not null)
                {
                    ReleaseHeld(output, asCall: true);
                }

                var becameCall = _calls.Count > 0; // the held text was the forced tool's call: no text for a JSON mode to release
                if (_json is not null && !becameCall)
                {
                    ReleaseJson(output, _json.ToString());
                }
                else if (_gate is not null && !becameCall)
                {
                    EndGate(output);
                }
            }
        }

        return output;
    }

    /// <summary>
    /// The held-back text of a JSON mode, as the JSON itself. A cut answer (the budget ran out) goes as it is, without
    /// its fence or preamble, as OpenAI sends a JSON cut at <c>length</c>; an answer with no JSON that fits is an error.
    /// </summary>
    private void ReleaseJson(List<AnswerEvent> output, string raw)
    {
        string json;
        if (_budget.Exhausted)
        {
            var start = raw.IndexOfAny(['{', '[']);
            json = start < 0 ? raw.Trim() : raw[start..];
        }
        else
        {
            json = JsonOutput.Extract(raw, _format, out var problem) ?? throw InvalidJson(problem!);
        }

        if (json.Length > 0)
        {
            _text.Append(json);
            output.Add(new AnswerEvent(AnswerEventKind.Text, json));
        }
    }

    /// <summary>
    /// The end of a streamed JSON answer: a value that never opened a line is extracted from all the text now; one that
    /// was streamed must have closed (unless the budget or a stop sequence cut it) and be what the format asks for.
    /// </summary>
    private void EndGate(List<AnswerEvent> output)
    {
        if (!_gate!.Started)
        {
            ReleaseJson(output, _gate.Held);
            return;
        }

        if (!_gate.Done)
        {
            if (!_budget.Exhausted && !_stops.Stopped)
            {
                throw InvalidJson("its JSON does not end");
            }

            return;
        }

        if (!JsonOutput.Validate(_text.ToString(), _format, out var problem))
        {
            throw InvalidJson(problem!);
        }
    }

    private static UpstreamException InvalidJson(string problem) =>
        new(UpstreamFailureKind.InvalidOutput, $"The model's answer could not be made into the JSON this request asks for: {problem}.");

    /// <summary>
    /// The text of a forced-tool answer, held while it could still be the call: at the end, JSON in it that the forced
    /// tool takes becomes the call; otherwise (or before a real call) it goes on as text.
    /// </summary>
    private void ReleaseHeld(List<AnswerEvent> output, bool asCall)
    {
        var held = _held!.ToString();
        _held.Clear();
        if (held.Length == 0)
        {
            return;
        }

        if (asCall && !_budget.Exhausted && ArgumentsIn(held, _forced!) is { } arguments)
        {
            var call = new ToolCall(0, ToolCallParser.NewCallId(), _forced!.Name, arguments);
            _calls.Add(call);
            output.Add(new AnswerEvent(AnswerEventKind.ToolCall, Call: call));
            return;
        }

        Emit(output, held);
    }

    /// <summary>The first JSON object in <paramref name="text"/> that <paramref name="tool"/>'s schema takes, normalized.</summary>
    private static string? ArgumentsIn(string text, ToolDefinition tool)
    {
        var json = JsonOutput.Extract(text, OutputFormat.JsonObject, out _);
        return json is not null && ToolArguments.Normalize(json) is { } arguments && ToolArguments.Validate(arguments, tool.Schema) is null ? arguments : null;
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
                    if (_held is not null)
                    {
                        ReleaseHeld(output, asCall: false); // the model called a tool: what it said before is text
                    }
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

        if (_held is not null && _calls.Count == 0)
        {
            _held.Append(kept); // may be the forced tool's arguments
            return;
        }

        Emit(output, kept);
    }

    /// <summary>Text the answer keeps, to the client (through the JSON mode's hold or gate).</summary>
    private void Emit(List<AnswerEvent> output, string kept)
    {
        if (_json is not null)
        {
            _json.Append(kept); // held back until the whole answer is known
            return;
        }

        if (_gate is not null && (kept = _gate.Push(kept)).Length == 0)
        {
            return;
        }

        _text.Append(kept);
        output.Add(new AnswerEvent(AnswerEventKind.Text, kept));
    }
}
