using Flowith2Api.ChatService.Sessions;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Dialects.Responses;

/// <summary>What reading a Responses request needs: the store, the writes in progress, the settings, a logger.</summary>
public sealed record ResponsesServices(IResponseStore Store, PendingResponseWrites Pending, IOptionsMonitor<ChatOptions> Options,
    IOptionsMonitor<LongContextOptions> ContextOptions, ILogger<ResponsesTurn> Logger);
