using System.Diagnostics;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary>Runs a program outside .NET (Python, torchrun) and returns its exit code with everything it printed.</summary>
internal static class ExternalProcess
{
    /// <param name="install">The Debian package that provides <paramref name="program"/>, named when it is missing.</param>
    public static (int Exit, string Output) Run(string program, string install, TimeSpan timeout, params string[] args)
    {
        Assert.True(File.Exists(program), $"{program} is missing: apt-get install -y {install}");
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{program} did not finish in {timeout}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
