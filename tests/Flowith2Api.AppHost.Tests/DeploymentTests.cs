using System.Diagnostics;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace Flowith2Api.AppHost.Tests;

/// <summary>The deployable artefacts: the Aspire manifest, the Kubernetes objects under deploy/, the container images.</summary>
public sealed class DeploymentTests
{
    private static readonly string Root = RepoRoot();

    public static TheoryData<string, string> Services => new()
    {
        { "Gateway", "gateway" },
        { "ChatService", "chat-service" },
        { "ToolService", "tool-service" },
        { "AdminService", "admin-service" },
    };

    [Fact]
    public async Task The_apphost_writes_the_manifest_that_deploy_holds()
    {
        var output = Path.Combine(Path.GetTempPath(), "f2a-manifest-" + Guid.NewGuid().ToString("N"), "manifest.json");
        var (exit, log) = await DotnetAsync(["run", "--no-build", "-c", Configuration(), "--project", Path.Combine(Root, "src", "Flowith2Api.AppHost"),
            "--", "--publisher", "manifest", "--output-path", output]);
        Assert.True(exit == 0 && File.Exists(output), log);

        var fresh = Resources(await File.ReadAllTextAsync(output));
        var kept = Resources(await File.ReadAllTextAsync(Path.Combine(Root, "deploy", "aspire-manifest.json")));
        foreach (var service in new[] { "gateway", "chat-service", "tool-service", "admin-service", "redis", "postgres" })
        {
            Assert.True(fresh.ContainsKey(service), $"the manifest has {service}");
        }

        // Same resources, same environment variable names and bindings: deploy/aspire-manifest.json is current.
        Assert.Equal(kept.Keys.Order(), fresh.Keys.Order());
        foreach (var (name, resource) in fresh)
        {
            Assert.Equal(EnvNames(kept[name]), EnvNames(resource));
            Assert.Equal(BindingNames(kept[name]), BindingNames(resource));
        }

        // No path of this machine in any setting (project "path"s are relative to the output, as aspirate expects).
        Assert.All(fresh.Values.Where(r => r.TryGetProperty("env", out _)), r => Assert.DoesNotContain(Root, r.GetProperty("env").GetRawText(), StringComparison.Ordinal));
    }

    [Fact]
    public void Every_kubernetes_object_under_deploy_parses_and_matches_the_manifest()
    {
        var objects = Directory.GetFiles(Path.Combine(Root, "deploy", "kubernetes"), "*.yaml")
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .SelectMany(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(f)))
            .ToList();
        Assert.All(objects, o => Assert.IsAssignableFrom<IKubernetesObject>(o));
        var deployments = objects.OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        var services = objects.OfType<V1Service>().ToDictionary(s => s.Metadata.Name);
        var statefulSets = objects.OfType<V1StatefulSet>().ToDictionary(s => s.Metadata.Name);
        var config = Assert.Single(objects.OfType<V1ConfigMap>());
        var secret = Assert.Single(objects.OfType<V1Secret>());
        var autoscalers = objects.OfType<V2HorizontalPodAutoscaler>().ToList();

        var manifest = Resources(File.ReadAllText(Path.Combine(Root, "deploy", "aspire-manifest.json")));
        foreach (var (name, resource) in manifest)
        {
            var type = resource.GetProperty("type").GetString();
            if (type == "container.v0")
            {
                Assert.True(statefulSets.ContainsKey(name), $"{name} has a StatefulSet");
                Assert.True(services.ContainsKey(name), $"{name} has a Service");
                continue;
            }

            if (type != "project.v0")
            {
                continue;
            }

            Assert.True(deployments.TryGetValue(name, out var deployment), $"{name} has a Deployment");
            var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
            Assert.NotNull(container.ReadinessProbe?.HttpGet);
            Assert.Equal("/ready", container.ReadinessProbe.HttpGet.Path);
            Assert.Equal("/alive", container.LivenessProbe?.HttpGet?.Path);
            Assert.True(container.Resources?.Limits?.ContainsKey("cpu") == true && container.Resources.Limits.ContainsKey("memory"), $"{name} has limits");
            Assert.True(container.SecurityContext?.RunAsNonRoot == true, $"{name} runs as non-root");
            // The pod is killed only after the service's own shutdown budget (delay + drain + 5 s grace) has passed.
            var env = resource.GetProperty("env");
            var budget = int.Parse(env.GetProperty("SHUTDOWN_DELAY_SECONDS").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
                + int.Parse(container.Env.FirstOrDefault(e => e.Name == "SHUTDOWN_DRAIN_SECONDS")?.Value ?? config.Data["SHUTDOWN_DRAIN_SECONDS"],
                    System.Globalization.CultureInfo.InvariantCulture) + 5;
            Assert.Equal(env.GetProperty("SHUTDOWN_DRAIN_SECONDS").GetString(),
                container.Env.FirstOrDefault(e => e.Name == "SHUTDOWN_DRAIN_SECONDS")?.Value ?? config.Data["SHUTDOWN_DRAIN_SECONDS"]);
            Assert.True(deployment.Spec.Template.Spec.TerminationGracePeriodSeconds > budget, $"{name} has time to drain");

            // Every variable the manifest gives the service reaches its container (directly, or from the ConfigMap).
            var names = container.Env.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
            if (container.EnvFrom?.Any(e => e.ConfigMapRef?.Name == config.Metadata.Name) == true)
            {
                names.UnionWith(config.Data.Keys);
            }

            foreach (var variable in EnvNames(resource))
            {
                Assert.True(names.Contains(variable), $"{name} gets {variable}");
            }

            foreach (var reference in container.Env.Where(e => e.ValueFrom?.SecretKeyRef is not null))
            {
                Assert.Equal(secret.Metadata.Name, reference.ValueFrom.SecretKeyRef.Name);
                Assert.True(secret.StringData.ContainsKey(reference.ValueFrom.SecretKeyRef.Key), $"the Secret has {reference.ValueFrom.SecretKeyRef.Key}");
            }

            // One Service port per manifest binding, by name.
            Assert.True(services.TryGetValue(name, out var service), $"{name} has a Service");
            Assert.Equal(BindingNames(resource), service.Spec.Ports.Select(p => p.Name).Order());
            Assert.Equal(deployment.Spec.Selector.MatchLabels, service.Spec.Selector);
        }

        foreach (var scaled in new[] { "gateway", "chat-service" })
        {
            var hpa = Assert.Single(autoscalers, a => a.Spec.ScaleTargetRef.Name == scaled);
            Assert.Equal("Deployment", hpa.Spec.ScaleTargetRef.Kind);
            Assert.True(hpa.Spec.MaxReplicas > hpa.Spec.MinReplicas);
        }

        // The Gateway's h2c destination is the ChatService Service's h2c port.
        Assert.Contains(services["chat-service"].Spec.Ports, p => p.Name == "h2c" && p.Port == 8081);
        Assert.Equal("http://chat-service:8081", config.Data["services__chat-service__h2c__0"]);
    }

    [Fact]
    public void The_tool_service_pod_and_image_hold_what_the_sandbox_and_code_interpreter_need()
    {
        var deployment = KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(Root, "deploy", "kubernetes", "tool-service.yaml")))
            .OfType<V1Deployment>().Single();
        var pod = deployment.Spec.Template.Spec;
        var security = Assert.Single(pod.Containers).SecurityContext;

        // bubblewrap's namespaces: a user namespace of the pod's own, /proc unmasked, no filter refusing unshare.
        Assert.False(pod.HostUsers, "hostUsers: false");
        Assert.Equal("Unmasked", security.ProcMount);
        Assert.Equal("Unconfined", security.SeccompProfile?.Type);
        Assert.Equal("Unconfined", security.AppArmorProfile?.Type);
        // And nothing more: no privilege, no capability, not root, no API token for the code the tools run.
        Assert.NotEqual(true, security.Privileged);
        Assert.False(security.AllowPrivilegeEscalation);
        Assert.True(security.RunAsNonRoot);
        Assert.Equal(["ALL"], security.Capabilities.Drop);
        Assert.True(security.Capabilities.Add is null or { Count: 0 });
        Assert.False(pod.AutomountServiceAccountToken);

        // The image: the sandbox and every program the tools start (code_interpreter's Python and Node among them).
        var dockerfile = File.ReadAllText(Path.Combine(Root, "deploy", "containers", "tool-service-base.Dockerfile"));
        var install = dockerfile[dockerfile.IndexOf("apt-get install", StringComparison.Ordinal)..].Split('\n')[0];
        foreach (var package in new[] { "bubblewrap", "bash", "python3", "nodejs", "git" })
        {
            Assert.Contains(" " + package + " ", install + " ", StringComparison.Ordinal);
        }

        var interpreter = File.ReadAllText(Path.Combine(Root, "src", "Flowith2Api.ToolService", "Tools", "Builtin", "CodeInterpreterTool.cs"));
        foreach (var program in System.Text.RegularExpressions.Regex.Matches(interpreter, @"=> \(""(?<program>[a-z0-9]+)""").Select(m => m.Groups["program"].Value))
        {
            Assert.Contains(program == "node" ? " nodejs " : " " + program + " ", install + " ", StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Each_service_publishes_in_release_with_its_container_properties(string project, string name)
    {
        var csproj = Path.Combine(Root, "src", $"Flowith2Api.{project}", $"Flowith2Api.{project}.csproj");
        var (exit, json) = await DotnetAsync(["msbuild", csproj, "-p:Configuration=Release", "-getProperty:ContainerBaseImage",
            "-getProperty:ContainerUser", "-getProperty:ContainerRepository", "-getProperty:ContainerImageTags", "-getProperty:EnableSdkContainerSupport",
            "-getItem:ContainerPort", "-getItem:ContainerLabel"]);
        Assert.True(exit == 0, json);
        using var evaluated = JsonDocument.Parse(json);
        var properties = evaluated.RootElement.GetProperty("Properties");
        var items = evaluated.RootElement.GetProperty("Items");
        Assert.Equal("true", properties.GetProperty("EnableSdkContainerSupport").GetString());
        Assert.Equal($"flowith2api/{name}", properties.GetProperty("ContainerRepository").GetString());
        Assert.Equal("1654", properties.GetProperty("ContainerUser").GetString()); // the base image's non-root "app" user
        Assert.Equal(name == "tool-service" ? "flowith2api/tool-service-base:10.0" : "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled",
            properties.GetProperty("ContainerBaseImage").GetString());
        Assert.Contains("latest", properties.GetProperty("ContainerImageTags").GetString()!.Split(';'));
        var ports = items.GetProperty("ContainerPort").EnumerateArray().Select(p => p.GetProperty("Identity").GetString()).ToList();
        Assert.Contains("8080", ports);
        if (name == "chat-service")
        {
            Assert.Contains("8081", ports);
        }

        var labels = items.GetProperty("ContainerLabel").EnumerateArray()
            .ToDictionary(l => l.GetProperty("Identity").GetString()!, l => l.GetProperty("Value").GetString());
        foreach (var label in new[] { "org.opencontainers.image.title", "org.opencontainers.image.version", "org.opencontainers.image.source", "org.opencontainers.image.licenses" })
        {
            Assert.False(string.IsNullOrEmpty(labels.GetValueOrDefault(label)), $"label {label}");
        }

        var output = Path.Combine(Path.GetTempPath(), "f2a-publish-" + Guid.NewGuid().ToString("N"));
        var (published, log) = await DotnetAsync(["publish", csproj, "-c", "Release", "-o", output]);
        Assert.True(published == 0, log);
        Assert.True(File.Exists(Path.Combine(output, $"Flowith2Api.{project}.dll")));
        Directory.Delete(output, recursive: true);
    }

    private static Dictionary<string, JsonElement> Resources(string manifest)
    {
        using var document = JsonDocument.Parse(manifest);
        return document.RootElement.GetProperty("resources").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
    }

    private static List<string> EnvNames(JsonElement resource) =>
        resource.TryGetProperty("env", out var env) ? env.EnumerateObject().Select(p => p.Name).Order().ToList() : [];

    private static List<string> BindingNames(JsonElement resource) =>
        resource.TryGetProperty("bindings", out var bindings) ? bindings.EnumerateObject().Select(p => p.Name).Order().ToList() : [];

    private static async Task<(int Exit, string Output)> DotnetAsync(string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Root };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A child build must not inherit the test host's MSBuild settings.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string Configuration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flowith2Api.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Flowith2Api.sln not found above the test binaries.");
    }
}
