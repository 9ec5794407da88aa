namespace CnnGen.Checkpoints;

/// <summary>Replaces a file all at once: writes a temporary file beside it, flushes it to disk, then renames it over
/// the target (creating its directory if needed). If writing fails the temporary file is removed and the old file is left as it was.
/// A process killed while writing leaves its temporary file behind; the next write of the same file removes it.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        string temporary = Path.Combine(directory, TemporaryFiles.NameFor(Path.GetFileName(full)));
        Directory.CreateDirectory(directory);
        TemporaryFiles.RemoveStale(full);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            TemporaryFiles.TryDelete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Checks, before any long work, that <see cref="Write"/> will be able to write <paramref name="path"/>: creates its
    /// directory, then creates and removes a temporary file there, leaving any existing file as it is. Throws an
    /// <see cref="IOException"/> (or <see cref="UnauthorizedAccessException"/>) whose message names the path and the problem.
    /// </summary>
    public static void CheckWritable(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new IOException($"{path} is a directory; name a file to write");
        string directory = Path.GetDirectoryName(full) ?? ".";
        for (string? ancestor = directory; ancestor is not null; ancestor = Path.GetDirectoryName(ancestor))
            if (File.Exists(ancestor))
                throw new IOException($"{path} cannot be written: {ancestor} is a file, not a directory");
        string temporary = Path.Combine(directory, TemporaryFiles.NameFor(Path.GetFileName(full)));
        try
        {
            Directory.CreateDirectory(directory);
            using (new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path} cannot be written: {e.Message}", e);
        }
        finally
        {
            TemporaryFiles.TryDelete(temporary);
        }
    }
}
