using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.Simd;

/// <summary>
/// Runs Cnn.SimdCheck (digests of every kernel's and network's results) with 512-bit vectors, with 512-bit vectors
/// disabled, with 256-bit vectors disabled and with all hardware intrinsics disabled: every digest must be equal.
/// </summary>
public class SimdInvarianceTests(ITestOutputHelper output)
{
    // .NET 10 reads DOTNET_EnableAVX512; DOTNET_EnableAVX512F (the .NET 8 name) alone no longer turns 512-bit vectors off.
    private static readonly (string Name, string[] Environment)[] Configurations =
    [
        ("default", []),
        ("no AVX-512", ["DOTNET_EnableAVX512F=0", "DOTNET_EnableAVX512=0"]),
        ("no AVX2", ["DOTNET_EnableAVX2=0"]),
        ("no hardware intrinsics", ["DOTNET_EnableHWIntrinsic=0"]),
    ];

    [Fact]
    public void DigestsAreEqualWithAndWithoutSimd()
    {
        var runs = Configurations.Select(c => (c.Name, Lines: Run(c.Environment))).ToList();
        var reference = runs[0].Lines.Where(l => !l.StartsWith('#')).ToList();
        Assert.True(reference.Count > 20, "Cnn.SimdCheck printed too few digests:\n" + string.Join("\n", runs[0].Lines));
        foreach (var (name, lines) in runs)
        {
            output.WriteLine($"{name}: {lines.FirstOrDefault(l => l.StartsWith('#'))}");
            var digests = lines.Where(l => !l.StartsWith('#')).ToList();
            var differing = reference.Zip(digests).Where(p => p.First != p.Second).Select(p => $"{p.First} vs {p.Second}").ToList();
            Assert.True(digests.Count == reference.Count && differing.Count == 0,
                $"{name} differs from default:\n" + string.Join("\n", differing));
        }
        // The switches took effect: otherwise the comparison above would compare a path with itself.
        Assert.Contains("Vector512 False", runs[1].Lines[0]);
        Assert.Contains("Vector256 False", runs[2].Lines[0]);
        Assert.Contains("Vector512 False Vector256 False Vector128 False", runs[3].Lines[0]);
    }

    private static List<string> Run(string[] environment)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Cnn.SimdCheck.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var knob in new[] { "DOTNET_EnableAVX512F", "DOTNET_EnableAVX512", "DOTNET_EnableAVX2", "DOTNET_EnableHWIntrinsic",
                                     "DOTNET_PreferredVectorBitWidth" })
            start.Environment.Remove(knob);
        foreach (var setting in environment)
        {
            var parts = setting.Split('=', 2);
            start.Environment[parts[0]] = parts[1];
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (process.StandardOutput.ReadLine() is { } line) lines.Add(line);
        Assert.True(process.WaitForExit(120_000), "Cnn.SimdCheck did not finish");
        Assert.True(process.ExitCode == 0, $"Cnn.SimdCheck failed ({string.Join(" ", environment)}): {stderr.Result}");
        return lines;
    }
}
