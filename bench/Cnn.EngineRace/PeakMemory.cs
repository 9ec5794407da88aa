namespace CnnGen.EngineRace;

/// <summary>The process's peak resident memory (VmHWM in /proc/self/status), in MiB; null where there is no /proc.</summary>
internal static class PeakMemory
{
    public static double? MiB()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0; // kB
        }
        return null;
    }
}
