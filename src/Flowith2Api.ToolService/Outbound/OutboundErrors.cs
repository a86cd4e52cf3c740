namespace Flowith2Api.ToolService.Outbound;

/// <summary>Outbound failures in words for the model and the admin, without stack traces.</summary>
public static class OutboundErrors
{
    public static string Describe(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is OutboundRefusedException refused)
            {
                return refused.Message;
            }
        }

        return e switch
        {
            TaskCanceledException => "the backend did not answer in time.",
            System.Text.Json.JsonException => "the backend's answer is not the expected JSON.",
            _ => "the backend could not be reached.",
        };
    }
}
