namespace Flowith2Api.ToolService.Sandbox;

/// <summary>One entry found below a workspace directory, as it was when the directory was read.</summary>
public sealed record WorkspaceEntry(string RelativePath, FileStatus Status)
{
    public string Name => RelativePath[(RelativePath.LastIndexOf('/') + 1)..];

    /// <summary>A regular file with a single link when it was listed (what is opened later is checked again).</summary>
    public bool IsPlainFile => Status.Kind == FileKind.File && Status.LinkCount <= 1;
}
