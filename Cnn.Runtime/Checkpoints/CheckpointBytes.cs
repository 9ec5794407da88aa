using System.Buffers;
using System.Buffers.Binary;
using System.Text.Unicode;

namespace CnnGen.Checkpoints;

/// <summary>
/// Reads a checkpoint file's bytes, checking sizes before allocating: the file must be a regular file whose length
/// the file system reports (a device such as /dev/zero or a pipe reports none and is refused before it is opened),
/// and the header length it starts with must be plausible and fit in that length.
/// </summary>
internal static class CheckpointBytes
{
    public static byte[] Read(string path, long maxHeaderLength)
    {
        long length = LengthOf(path);
        if (length < 8)
            throw new CheckpointException(path, $"truncated: {length} bytes, too short for the 8-byte header length" +
                                                (length == 0 ? " (or not a regular file: a device or pipe has no length to check)" : ""));
        if (length > Array.MaxLength)
            throw new CheckpointException(path, $"is {length:N0} bytes, more than a checkpoint can hold ({Array.MaxLength:N0})");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var bytes = new byte[8];
            stream.ReadExactly(bytes);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            if (headerLength < 2 || headerLength > (ulong)maxHeaderLength)
                throw new CheckpointException(path, $"header length {headerLength} is not plausible (expected 2..{maxHeaderLength}); not a safetensors file?");
            if (headerLength > (ulong)(length - 8))
                throw new CheckpointException(path, $"truncated: header length {headerLength} but only {length - 8} bytes follow");

            var file = new byte[length];
            bytes.CopyTo(file, 0);
            int got = 8 + stream.ReadAtLeast(file.AsSpan(8), file.Length - 8, throwOnEndOfStream: false);
            if (got < file.Length)
                throw new CheckpointException(path, $"truncated while being read: {got} of the {length} bytes it had when opened");
            return file;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not CheckpointException)
        {
            throw new CheckpointException(path, $"cannot be read: {e.Message}", e);
        }
    }

    /// <summary>The index of the first byte that is not part of valid UTF-8, or -1.</summary>
    public static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int at = 0;
        var chars = ArrayPool<char>.Shared.Rent(4096);
        try
        {
            while (at < bytes.Length)
            {
                var status = Utf8.ToUtf16(bytes[at..], chars, out int read, out _, replaceInvalidSequences: false, isFinalBlock: true);
                at += read;
                if (status == OperationStatus.Done) return -1;
                if (status != OperationStatus.DestinationTooSmall) return at;
            }
            return -1;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private static long LengthOf(string path)
    {
        try
        {
            if (Directory.Exists(path))
                throw new CheckpointException(path, "is a directory, not a checkpoint file");
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new CheckpointException(path, "cannot be read: the file does not exist");
            return info.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not CheckpointException)
        {
            throw new CheckpointException(path, $"cannot be read: {e.Message}", e);
        }
    }
}
