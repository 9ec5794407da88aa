namespace CnnGen.Checkpoints;

/// <summary>
/// The temporary files <see cref="AtomicFile"/> writes beside a target: <c>.NAME.&lt;32 hex digits&gt;.tmp</c>. A process
/// killed mid-write leaves one behind; <see cref="RemoveStale"/> removes those of one target, and only those no live
/// writer holds (a writer keeps its file open exclusively, so an open one is skipped).
/// </summary>
internal static class TemporaryFiles
{
    private const string Suffix = ".tmp";
    private const int GuidDigits = 32;

    public static string NameFor(string fileName) => $".{fileName}.{Guid.NewGuid():N}{Suffix}";

    /// <summary>Whether <paramref name="candidate"/> (a file name) is a temporary file of <paramref name="fileName"/>.</summary>
    public static bool Belongs(string candidate, string fileName)
    {
        string prefix = "." + fileName + ".";
        if (candidate.Length != prefix.Length + GuidDigits + Suffix.Length) return false;
        if (!candidate.StartsWith(prefix, StringComparison.Ordinal) || !candidate.EndsWith(Suffix, StringComparison.Ordinal)) return false;
        foreach (char c in candidate.AsSpan(prefix.Length, GuidDigits))
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }

    /// <summary>Removes the temporary files left beside <paramref name="fullPath"/> by writes that never finished.</summary>
    public static void RemoveStale(string fullPath)
    {
        string directory = Path.GetDirectoryName(fullPath) ?? ".";
        string fileName = Path.GetFileName(fullPath);
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(directory, ".*" + Suffix).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string file in files)
        {
            if (!Belongs(Path.GetFileName(file), fileName)) continue;
            try
            {
                // Opening exclusively fails while a writer still has it open; closing removes it.
                using (new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // In use, or not ours to remove: leave it.
            }
        }
    }

    public static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
