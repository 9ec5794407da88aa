using System.Text;
using CnnGen.Generator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests;

/// <summary>The size of the generated files of sample networks, printed for the record (nothing about speed is asserted).</summary>
public class GeneratedSizeTests(ITestOutputHelper output)
{
    public static TheoryData<string> Samples => new() { "LeNet5", "ResNet18" };

    [Theory]
    [MemberData(nameof(Samples))]
    public void GeneratedFileSize(string sample)
    {
        string source = sample == "LeNet5" ? Networks.LeNet5 : Networks.ResNet18;
        var run = TestDriver.Run(source);
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        string text = Assert.Single(run.Sources).SourceText.ToString();
        output.WriteLine($"{sample}: {Encoding.UTF8.GetByteCount(text):N0} bytes, {text.Count(c => c == '\n'):N0} lines");
    }

    [Fact]
    public void WhatEveryNetworkDoesAlikeIsTheRuntimes()
    {
        string text = Assert.Single(TestDriver.Run(Networks.LeNet5BatchNorm).Sources).SourceText.ToString();
        foreach (var scaffolding in new[] { "WorkerPool", "CallGuard", "CheckInputs(int", "PrepareWorkers(int", "LossAndGradient",
                     "has no parameters to freeze", "Threads must be at least 1", "ForwardChunk", "GradientChunk", "private static void Grow" })
            Assert.DoesNotContain(scaffolding, text, StringComparison.Ordinal);
        Assert.Contains("private sealed class Passes : global::CnnGen.GeneratedNetworks.NetworkPasses<Workspace>", text, StringComparison.Ordinal);
        Assert.Contains("private sealed class Workspace : global::CnnGen.GeneratedNetworks.NetworkWorkspace", text, StringComparison.Ordinal);
    }
}
