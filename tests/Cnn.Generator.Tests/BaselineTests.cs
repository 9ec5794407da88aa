using CnnGen.Generator.Tests.Infrastructure;

namespace CnnGen.Generator.Tests;

/// <summary>The sample networks' generated files, compared with the committed baselines.</summary>
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

    [Fact]
    public void LeNet5BatchNorm_GeneratedFileMatchesBaseline()
    {
        var run = TestDriver.Run(Networks.LeNet5BatchNorm);
        Assert.Empty(run.GeneratorDiagnostics);
        var source = Assert.Single(run.Sources);
        Assert.Equal("CnnGen.Samples.Networks.LeNet5BatchNorm.g.cs", source.HintName);
        Baseline.Verify("LeNet5BatchNorm", source.SourceText.ToString());
    }

    [Fact]
    public void SmallResNet_GeneratedFileMatchesBaseline()
    {
        var run = TestDriver.Run(Networks.SmallResNet);
        Assert.Empty(run.GeneratorDiagnostics);
        var source = Assert.Single(run.Sources);
        Assert.Equal("CnnGen.Samples.Networks.SmallResNet.g.cs", source.HintName);
        Baseline.Verify("SmallResNet", source.SourceText.ToString());
    }
}
