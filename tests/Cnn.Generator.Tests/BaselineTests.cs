using CnnGen.Generator.Tests.Infrastructure;

namespace CnnGen.Generator.Tests;

/// <summary>LeNet-5's generated file, compared with the committed baseline.</summary>
public class BaselineTests
{
    [Fact]
    public void LeNet5_GeneratedFileMatchesBaseline()
    {
        var run = TestDriver.Run(Networks.LeNet5);
        Assert.Empty(run.GeneratorDiagnostics);
        var source = Assert.Single(run.Sources);
        Assert.Equal("CnnGen.Samples.Networks.LeNet5.g.cs", source.HintName);
        Baseline.Verify("LeNet5", source.SourceText.ToString());
    }
}
