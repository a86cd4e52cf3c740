namespace Flowith2Api.ChatService.Turns;

/// <summary>The three kinds of answer piece a dialect's stream writer sends, each as its wire format has it.</summary>
public interface IAnswerEventWriter
{
    ValueTask<FlushResult> WriteReasoningAsync(string text, CancellationToken cancellationToken);

    ValueTask<FlushResult> WriteTextAsync(string text, CancellationToken cancellationToken);

    ValueTask<FlushResult> WriteToolCallAsync(ToolCall toolCall, CancellationToken cancellationToken);
}
