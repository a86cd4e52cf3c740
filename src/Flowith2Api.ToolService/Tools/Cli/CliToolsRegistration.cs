namespace Flowith2Api.ToolService.Tools.Cli;

public static class CliToolsRegistration
{
    /// <summary>
    /// Registers the CLI tools (file, directory, search, bash, git and environment tools) as <see cref="ITool"/>
    /// singletons. They need <see cref="Sandbox.ISandbox"/> (<c>AddSandbox()</c>) and <see cref="ToolOptions"/>.
    /// </summary>
    public static IServiceCollection AddCliTools(this IServiceCollection services)
    {
        services.AddSingleton<ITool, FileReadTool>();
        services.AddSingleton<ITool, FileWriteTool>();
        services.AddSingleton<ITool, FileEditTool>();
        services.AddSingleton<ITool, FileDeleteTool>();
        services.AddSingleton<ITool, FileMoveTool>();
        services.AddSingleton<ITool, FileListTool>();
        services.AddSingleton<ITool, FileSearchTool>();
        services.AddSingleton<ITool, DirectoryCreateTool>();
        services.AddSingleton<ITool, DirectoryDeleteTool>();
        services.AddSingleton<ITool, SearchFilesTool>();
        services.AddSingleton<ITool, BashExecuteTool>();
        services.AddSingleton<ITool, GitStatusTool>();
        services.AddSingleton<ITool, GitDiffTool>();
        services.AddSingleton<ITool, EnvironmentInfoTool>();
        return services;
    }
}
