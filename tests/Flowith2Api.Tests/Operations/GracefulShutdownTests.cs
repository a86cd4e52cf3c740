using System.Diagnostics;
using System.Net;
using System.Text;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Operations;

/// <summary>SIGTERM to a real ChatService process in the middle of a slow stream.</summary>
public sealed class GracefulShutdownTests
{
    // 20 chunks of 2 characters, one every 150 ms: a 3-second answer.
    private const string Answer = "Graceful restarts never cut streams";
    private const string SlowScenario = "text=Graceful%20restarts%20never%20cut%20streams;chunk=2;delay=150";

    [Fact]
    public async Task A_stream_open_at_sigterm_finishes_whole_while_health_reports_draining()
    {
        await using var fake = await FakeFlowithServer.StartAsync(new FakeFlowithOptions { DefaultScenario = SlowScenario });
        await using var chat = await ChatServiceProcess.StartAsync(fake.BaseUri, drainSeconds: 20, delaySeconds: 1);
        using var client = chat.CreateClient();

        var reading = ReadStreamAsync(client, afterFirstContent: () => chat.Terminate());
        var text = await reading;

        Assert.Equal(Answer, text.Content);
        Assert.True(text.Done, "the stream ended with [DONE]");
        Assert.Null(text.Error);
        Assert.True(chat.SawNotReady, "/ready answered 503 while draining");
        Assert.True(await chat.WaitForExitAsync(TimeSpan.FromSeconds(20)), "the process exited after the drain");
    }

    [Fact]
    public async Task A_stream_longer_than_the_drain_time_ends_with_a_proper_final_event_not_a_reset()
    {
        await using var fake = await FakeFlowithServer.StartAsync(new FakeFlowithOptions
        {
            DefaultScenario = "text=This%20answer%20takes%20far%20longer%20than%20the%20drain%20time%20allows;chunk=2;delay=200",
        });
        await using var chat = await ChatServiceProcess.StartAsync(fake.BaseUri, drainSeconds: 1, delaySeconds: 0);
        using var client = chat.CreateClient();

        var text = await ReadStreamAsync(client, afterFirstContent: () => chat.Terminate());

        Assert.NotNull(text.Error);
        Assert.Contains("service_shutting_down", text.Error, StringComparison.Ordinal);
        Assert.True(text.Done, "the stream still ended with [DONE]");
        Assert.StartsWith("This", text.Content, StringComparison.Ordinal);
        Assert.True(await chat.WaitForExitAsync(TimeSpan.FromSeconds(20)), "the process exited");
    }

    private static async Task<(string Content, bool Done, string? Error)> ReadStreamAsync(HttpClient client, Action afterFirstContent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"stream":true,"messages":[{"role":"user","content":"Take your time."}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var content = new StringBuilder();
        var done = false;
        string? error = null;
        var signalled = false;
        // Any IOException here (a reset) fails the test.
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                done = true;
                continue;
            }

            using var json = System.Text.Json.JsonDocument.Parse(data);
            if (json.RootElement.TryGetProperty("error", out var e))
            {
                error = e.GetRawText();
                continue;
            }

            if (json.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                && choices[0].GetProperty("delta").TryGetProperty("content", out var piece) && piece.GetString() is { Length: > 0 } s)
            {
                content.Append(s);
                if (!signalled)
                {
                    signalled = true;
                    afterFirstContent();
                }
            }
        }

        return (content.ToString(), done, error);
    }

    /// <summary>The ChatService's own build output run as a child process, so a real SIGTERM can reach it.</summary>
    private sealed class ChatServiceProcess : IAsyncDisposable
    {
        private readonly ServiceProcess _service;
        private readonly CancellationTokenSource _watch = new();
        private Task _watcher = Task.CompletedTask;

        private ChatServiceProcess(ServiceProcess service) => _service = service;

        public bool SawNotReady { get; private set; }

        public static async Task<ChatServiceProcess> StartAsync(Uri fake, int drainSeconds, int delaySeconds) =>
            new(await ServiceProcess.StartAsync("Flowith2Api.ChatService",
            [
                $"--INTERNAL_SECRET={GatewayCluster.InternalSecret}", $"--FLOWITH_BASE={fake}",
                "--FLOWITH_AUTH_TOKENS=flo_shutdown_test_credential", "--ENABLE_MCP=false", "--LOG_LEVEL=warn",
                $"--SHUTDOWN_DRAIN_SECONDS={drainSeconds}", $"--SHUTDOWN_DELAY_SECONDS={delaySeconds}",
            ]));

        public HttpClient CreateClient()
        {
            var client = new HttpClient { BaseAddress = _service.Uri, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Add("x-flowith2api-internal", GatewayCluster.InternalSecret);
            return client;
        }

        /// <summary>Sends SIGTERM and watches /health until the process stops answering.</summary>
        public void Terminate()
        {
            using (var kill = Process.Start("kill", ["-TERM", _service.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            _watcher = Task.Run(async () =>
            {
                using var probe = new HttpClient { BaseAddress = _service.Uri, Timeout = TimeSpan.FromSeconds(1) };
                while (!_watch.IsCancellationRequested && !_service.Process.HasExited)
                {
                    try
                    {
                        using var health = await probe.GetAsync("/ready", _watch.Token);
                        SawNotReady |= health.StatusCode == HttpStatusCode.ServiceUnavailable;
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                    }

                    await Task.Delay(50);
                }
            });
        }

        public Task<bool> WaitForExitAsync(TimeSpan timeout) => _service.WaitForExitAsync(timeout);

        public async ValueTask DisposeAsync()
        {
            await _watch.CancelAsync();
            await _watcher;
            await _service.DisposeAsync();
            _watch.Dispose();
        }
    }
}
