using Microsoft.Win32.SafeHandles;

namespace Flowith2Api.ToolService.Sandbox;

/// <summary>A regular file opened beneath a workspace, with what its own descriptor says about it.</summary>
public sealed class WorkspaceFile(SafeFileHandle handle, FileStatus status) : IDisposable
{
    public FileStatus Status { get; } = status;

    /// <summary>Reads up to <paramref name="buffer"/>'s length from <paramref name="offset"/>.</summary>
    public int Read(Span<byte> buffer, long offset) => RandomAccess.Read(handle, buffer, offset);

    /// <summary>The whole file, or null when it holds more than <paramref name="cap"/> bytes (also when it grew while being read).</summary>
    public byte[]? ReadAll(long cap)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        long offset = 0;
        int read;
        while ((read = Read(chunk, offset)) > 0)
        {
            if (offset + read > cap)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
            offset += read;
        }

        return buffer.ToArray();
    }

    /// <summary>A read-only stream over the file from its start (disposing it leaves the file open).</summary>
    public Stream OpenStream() => new WorkspaceFileStream(this);

    public void Dispose() => handle.Dispose();

    /// <summary>Sequential reads by offset, so the stream never moves a shared file position.</summary>
    private sealed class WorkspaceFileStream(WorkspaceFile file) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = file.Read(buffer, _position);
            _position += read;
            return read;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Read(buffer.Span));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
