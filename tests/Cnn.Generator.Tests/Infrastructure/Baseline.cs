using System.Runtime.CompilerServices;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>
/// Compares text with a committed <c>Baselines/{name}.verified.cs</c> file. On a mismatch it writes
/// <c>{name}.received.cs</c> next to it and fails; copying the received file over the verified one accepts the change.
/// </summary>
internal static class Baseline
{
    public static void Verify(string name, string actual, [CallerFilePath] string callerFile = "")
    {
        string directory = Path.Combine(ProjectDirectory(callerFile), "Baselines");
        string verified = Path.Combine(directory, name + ".verified.cs");
        string received = Path.Combine(directory, name + ".received.cs");
        actual = Normalize(actual);

        string? expected = File.Exists(verified) ? Normalize(File.ReadAllText(verified)) : null;
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(received, actual);
        string where = expected is null ? "there is no verified file yet" : FirstDifference(expected, actual);
        Assert.Fail($"Generated output differs from {verified}: {where}.\n" +
                    $"Wrote {received}. If the change is intended, accept it with:\n    cp \"{received}\" \"{verified}\"");
    }

    private static string ProjectDirectory(string callerFile)
    {
        for (var dir = Path.GetDirectoryName(callerFile); dir is not null; dir = Path.GetDirectoryName(dir))
            if (File.Exists(Path.Combine(dir, "Cnn.Generator.Tests.csproj"))) return dir;
        throw new InvalidOperationException("Cannot find the test project's directory from " + callerFile);
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n");

    private static string FirstDifference(string expected, string actual)
    {
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        for (int i = 0; i < Math.Min(e.Length, a.Length); i++)
            if (e[i] != a[i]) return $"first difference at line {i + 1}:\n  verified: {e[i]}\n  received: {a[i]}";
        return $"the verified file has {e.Length} lines, the received one {a.Length}";
    }
}
