using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Generator.Tests;

/// <summary>Edits that do not touch a network leave its pipeline cached; an attribute edit regenerates it.</summary>
public class IncrementalityTests
{
    private const string Helper = "namespace Other;\npublic static class Helper { public static int F() => 1; }\n";

    private static (CSharpCompilation Compilation, GeneratorDriver Driver) FirstRun()
    {
        var compilation = TestDriver.Compile(Networks.LeNet5, Helper);
        var driver = TestDriver.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var first = driver.GetRunResult().Results[0];
        Assert.Single(first.GeneratedSources);
        Assert.All(Outputs(first, TrackingNames.Networks), o => Assert.Equal(IncrementalStepRunReason.New, o.Reason));
        return (compilation, driver);
    }

    private static List<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();

    private static List<(object Value, IncrementalStepRunReason Reason)> SourceOutputs(GeneratorRunResult result) =>
        result.TrackedOutputSteps["SourceOutput"].SelectMany(s => s.Outputs).ToList();

    private static GeneratorRunResult Rerun(GeneratorDriver driver, Compilation changed) =>
        driver.RunGenerators(changed).GetRunResult().Results[0];

    private static void AssertNetworkCached(GeneratorRunResult result)
    {
        var networks = Outputs(result, TrackingNames.Networks);
        Assert.NotEmpty(networks);
        Assert.All(networks, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Networks step was {o.Reason}"));
        var sources = SourceOutputs(result);
        Assert.NotEmpty(sources);
        Assert.All(sources, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.Single(result.GeneratedSources);
    }

    [Fact]
    public void AddingAnUnrelatedFile_KeepsTheNetworkCached()
    {
        var (compilation, driver) = FirstRun();
        var changed = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { void M() { } }", TestDriver.ParseOptions, path: "Unrelated.cs"));
        AssertNetworkCached(Rerun(driver, changed));
    }

    [Fact]
    public void EditingAnUnrelatedMethod_KeepsTheNetworkCached()
    {
        var (compilation, driver) = FirstRun();
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Source1.cs");
        var edited = old.WithChangedText(old.GetText().Replace(Helper.IndexOf("1;", StringComparison.Ordinal), 1, "42"));
        AssertNetworkCached(Rerun(driver, compilation.ReplaceSyntaxTree(old, edited)));
    }

    [Fact]
    public void EditingTheNetworkClassBody_LeavesTheSpecUnchanged()
    {
        var (compilation, driver) = FirstRun();
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Source0.cs");
        var edited = CSharpSyntaxTree.ParseText(Networks.LeNet5.Replace("class LeNet5 { }", "class LeNet5 { public int Extra => 3; }"),
            TestDriver.ParseOptions, path: "Source0.cs");
        var result = Rerun(driver, compilation.ReplaceSyntaxTree(old, edited));
        // The declaration's tree changed, but the parsed network is equal: nothing is re-emitted.
        AssertNetworkCached(result);
    }

    private const string WithMembers = "public partial class LeNet5 { public int Extra => 3; private int Twice(int x) => 2 * x; }";

    private static (CSharpCompilation Compilation, GeneratorDriver Driver) FirstRunWithMembers()
    {
        var compilation = TestDriver.Compile(Networks.LeNet5.Replace("public partial class LeNet5 { }", WithMembers), Helper);
        var driver = TestDriver.CreateDriver(trackSteps: true).RunGenerators(compilation);
        Assert.Single(driver.GetRunResult().Results[0].GeneratedSources);
        return (compilation, driver);
    }

    [Fact]
    public void EditingAMembersBody_KeepsTheNetworkCached()
    {
        Assert.Contains("public partial class LeNet5 { }", Networks.LeNet5, StringComparison.Ordinal);
        var (compilation, driver) = FirstRunWithMembers();
        var edited = Networks.LeNet5.Replace("public partial class LeNet5 { }", WithMembers.Replace("2 * x", "x + x"));
        AssertNetworkCached(Rerun(driver, WithNetwork(compilation, edited)));
    }

    [Fact]
    public void AddingAMemberThatClashesWithNothing_KeepsTheNetworkCached()
    {
        var (compilation, driver) = FirstRunWithMembers();
        var edited = Networks.LeNet5.Replace("public partial class LeNet5 { }", WithMembers.Replace("{ public", "{ public string Label = \"x\"; public"));
        AssertNetworkCached(Rerun(driver, WithNetwork(compilation, edited)));
    }

    [Fact]
    public void AddingAClashingMember_ReportsIt_AndRemovingItGeneratesAgain()
    {
        var (compilation, driver) = FirstRunWithMembers();
        var clashing = Networks.LeNet5.Replace("public partial class LeNet5 { }", WithMembers.Replace("{ public", "{ public int Threads; public"));
        var second = driver.RunGenerators(WithNetwork(compilation, clashing));
        var result = second.GetRunResult().Results[0];
        Assert.Equal("CNN0032", Assert.Single(result.Diagnostics).Id);
        Assert.Empty(result.GeneratedSources);
        var third = Rerun(second, WithNetwork(compilation, Networks.LeNet5.Replace("public partial class LeNet5 { }", WithMembers)));
        Assert.Empty(third.Diagnostics);
        Assert.Single(third.GeneratedSources);
    }

    [Fact]
    public void EditingAnAttributeArgument_RegeneratesTheNetwork()
    {
        var (compilation, driver) = FirstRun();
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Source0.cs");
        var edited = CSharpSyntaxTree.ParseText(Networks.LeNet5.Replace("[Dense(84)]", "[Dense(80)]"), TestDriver.ParseOptions, path: "Source0.cs");
        var result = Rerun(driver, compilation.ReplaceSyntaxTree(old, edited));
        Assert.All(Outputs(result, TrackingNames.Networks), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Contains(SourceOutputs(result), o => o.Reason == IncrementalStepRunReason.Modified);
        var text = Assert.Single(result.GeneratedSources).SourceText.ToString();
        Assert.Contains("new(\"dense2\", \"Dense\", 80, 1, 1,", text, StringComparison.Ordinal);
        // 48,120 + 10,164 + 850 at 84 units becomes 48,120 + 9,680 + 810 at 80 units.
        Assert.Contains("public const int ParameterCount = 61182;", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AddingABatchNorm_RegeneratesTheNetworkWithState()
    {
        var (compilation, driver) = FirstRun();
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Source0.cs");
        var edited = CSharpSyntaxTree.ParseText(Networks.LeNet5.Replace("[Dense(84)]", "[Dense(84)] [BatchNorm]"), TestDriver.ParseOptions, path: "Source0.cs");
        var result = Rerun(driver, compilation.ReplaceSyntaxTree(old, edited));
        Assert.All(Outputs(result, TrackingNames.Networks), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        var text = Assert.Single(result.GeneratedSources).SourceText.ToString();
        Assert.Contains("public const int StateLength = 169;", text, StringComparison.Ordinal); // 84 + 84 + 1
        Assert.Contains("private readonly float[] _folded = new float[0];", text, StringComparison.Ordinal); // after a dense layer: not folded
    }

    [Fact]
    public void FreezingABatchNorm_RegeneratesTheNetwork()
    {
        var withNorm = Networks.LeNet5.Replace("[Dense(84)]", "[Dense(84)] [BatchNorm]");
        var compilation = TestDriver.Compile(withNorm, Helper);
        var driver = TestDriver.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Source0.cs");
        var edited = CSharpSyntaxTree.ParseText(withNorm.Replace("[BatchNorm]", "[BatchNorm(Frozen = true)]"), TestDriver.ParseOptions, path: "Source0.cs");
        var result = Rerun(driver, compilation.ReplaceSyntaxTree(old, edited));
        Assert.All(Outputs(result, TrackingNames.Networks), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        var text = Assert.Single(result.GeneratedSources).SourceText.ToString();
        // conv1, relu1, pool1, conv2, relu2, pool2, dense1, relu3, dense2, bn1 (frozen), relu4, dense3, softmax1
        Assert.Contains("_frozen = { false, false, false, false, false, false, false, false, false, true, false, false, false };", text, StringComparison.Ordinal);
    }

    private static (CSharpCompilation Compilation, GeneratorDriver Driver, string FirstText) FirstResNetRun()
    {
        var compilation = TestDriver.Compile(Networks.SmallResNet, Helper);
        var driver = TestDriver.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var first = driver.GetRunResult().Results[0];
        return (compilation, driver, Assert.Single(first.GeneratedSources).SourceText.ToString());
    }

    private static CSharpCompilation WithNetwork(CSharpCompilation compilation, string source)
    {
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Source0.cs");
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(source, TestDriver.ParseOptions, path: "Source0.cs"));
    }

    [Fact]
    public void ChangingOnlyAnAddsSource_RegeneratesTheNetwork()
    {
        var (compilation, driver, before) = FirstResNetRun();
        // relu2 has the shape of relu1: only the shortcut's source changes, no parameter and no shape.
        Assert.Contains("[Add(\"relu1\")]", Networks.SmallResNet, StringComparison.Ordinal);
        var result = Rerun(driver, WithNetwork(compilation, Networks.SmallResNet.Replace("[Add(\"relu1\")]", "[Add(\"relu2\")]")));
        Assert.All(Outputs(result, TrackingNames.Networks), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Contains(SourceOutputs(result), o => o.Reason == IncrementalStepRunReason.Modified);
        var text = Assert.Single(result.GeneratedSources).SourceText.ToString();
        Assert.Contains("\"add1      Add relu2    16x28x28", text, StringComparison.Ordinal);
        Assert.Contains("new global::System.ReadOnlySpan<float>(ws._act_relu2, 0, x.Length); // relu2's output", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ws._act_relu1, 0, x.Length", text, StringComparison.Ordinal);
        Assert.Contains("+ add1's output gradient, down the shortcut", text, StringComparison.Ordinal);
        Assert.Contains("public const int ParameterCount = 43914;", text, StringComparison.Ordinal);
        string Fingerprint(string code) => code.Split('\n').Single(l => l.Contains("public const string ArchitectureFingerprint", StringComparison.Ordinal));
        Assert.NotEqual(Fingerprint(before), Fingerprint(text));
    }

    [Fact]
    public void ReformattingAnAdd_LeavesTheSpecUnchanged()
    {
        var (compilation, driver, _) = FirstResNetRun();
        var result = Rerun(driver, WithNetwork(compilation, Networks.SmallResNet.Replace("[Add(\"relu1\")]", "[Add( source: \"relu1\" )]")));
        AssertNetworkCached(result);
    }

    private const string DenseNet = "using CnnGen;\nnamespace Dense;\n" +
        "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu1\")] [Dense(3)]\n" +
        "public partial class Net { }\n";

    private static (CSharpCompilation Compilation, GeneratorDriver Driver, string FirstText) FirstDenseNetRun()
    {
        var compilation = TestDriver.Compile(DenseNet, Helper);
        var driver = TestDriver.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var first = driver.GetRunResult().Results[0];
        return (compilation, driver, Assert.Single(first.GeneratedSources).SourceText.ToString());
    }

    [Fact]
    public void ChangingOnlyAConcatsSource_RegeneratesTheNetwork()
    {
        var (compilation, driver, before) = FirstDenseNetRun();
        Assert.Contains("\"concat1  Concat relu1  8x8x8", before, StringComparison.Ordinal);
        // relu2 has the shape of relu1: only the dense connection's source changes, no parameter and no shape.
        var result = Rerun(driver, WithNetwork(compilation, DenseNet.Replace("[Concat(\"relu1\")]", "[Concat(\"relu2\")]")));
        Assert.All(Outputs(result, TrackingNames.Networks), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Contains(SourceOutputs(result), o => o.Reason == IncrementalStepRunReason.Modified);
        var text = Assert.Single(result.GeneratedSources).SourceText.ToString();
        Assert.Contains("\"concat1  Concat relu2  8x8x8", text, StringComparison.Ordinal);
        Assert.Contains("new(\"concat1\", \"Concat\", 8, 8, 8,", text, StringComparison.Ordinal);
        Assert.Contains("Sources = new[] { \"relu2\" }", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Sources = new[] { \"relu1\" }", text, StringComparison.Ordinal);
        Assert.Contains("new global::System.ReadOnlySpan<float>(ws._act_relu2, b * 256, 256)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ws._act_relu1, b * 256", text, StringComparison.Ordinal);
        Assert.Contains("// + the gradient of concat1's last 4 channels, down the dense connection", text, StringComparison.Ordinal);
        // conv1 40, conv2 148, conv3 148, dense1 3 x 512 + 3: the same either way.
        Assert.Contains("public const int ParameterCount = 1875;", before, StringComparison.Ordinal);
        Assert.Contains("public const int ParameterCount = 1875;", text, StringComparison.Ordinal);
        string Fingerprint(string code) => code.Split('\n').Single(l => l.Contains("public const string ArchitectureFingerprint", StringComparison.Ordinal));
        Assert.NotEqual(Fingerprint(before), Fingerprint(text));
    }

    [Fact]
    public void TurningAnAddIntoAConcat_RegeneratesTheNetwork()
    {
        var (compilation, driver, before) = FirstDenseNetRun();
        var withAdd = DenseNet.Replace("[Concat(\"relu1\")]", "[Add(\"relu1\")]");
        var second = driver.RunGenerators(WithNetwork(compilation, withAdd));
        var third = Rerun(second, WithNetwork(compilation, DenseNet));
        Assert.All(Outputs(third, TrackingNames.Networks), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Equal(before, Assert.Single(third.GeneratedSources).SourceText.ToString());
    }

    [Fact]
    public void ReformattingAConcat_LeavesTheSpecUnchanged()
    {
        var (compilation, driver, _) = FirstDenseNetRun();
        var result = Rerun(driver, WithNetwork(compilation, DenseNet.Replace("[Concat(\"relu1\")]", "[Concat( source: \"relu1\" )]")));
        AssertNetworkCached(result);
    }

    private const string Branches = "using CnnGen;\nnamespace Graphs;\n" +
        "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(1, 4, From = \"relu1\")] [Concat(\"relu2\")] [Dense(3)]\n" +
        "public partial class Net { }\n";

    private static (CSharpCompilation Compilation, GeneratorDriver Driver, string FirstText) FirstBranchesRun()
    {
        var compilation = TestDriver.Compile(Branches, Helper);
        var driver = TestDriver.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var first = driver.GetRunResult().Results[0];
        return (compilation, driver, Assert.Single(first.GeneratedSources).SourceText.ToString());
    }

    private static string Fingerprint(string code) => code.Split('\n').Single(l => l.Contains("public const string ArchitectureFingerprint", StringComparison.Ordinal));

    [Fact]
    public void ChangingOnlyAFrom_RegeneratesTheNetwork_WithAnotherFingerprint()
    {
        var (compilation, driver, before) = FirstBranchesRun();
        Assert.Contains("Forward_conv3(ws, ws._act_relu1, ws._act_conv3, batch);", before, StringComparison.Ordinal);
        // conv1 has relu1's shape: only the edge changes, no parameter and no shape.
        var result = Rerun(driver, WithNetwork(compilation, Branches.Replace("From = \"relu1\"", "From = \"conv1\"")));
        Assert.All(Outputs(result, TrackingNames.Networks), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        var text = Assert.Single(result.GeneratedSources).SourceText.ToString();
        Assert.Contains("Forward_conv3(ws, ws._act_conv1, ws._act_conv3, batch);", text, StringComparison.Ordinal);
        Assert.NotEqual(Fingerprint(before), Fingerprint(text));
    }

    [Fact]
    public void AddingASecondSourceToAConcat_RegeneratesTheNetwork()
    {
        var (compilation, driver, before) = FirstBranchesRun();
        var result = Rerun(driver, WithNetwork(compilation, Branches.Replace("[Concat(\"relu2\")]", "[Concat(\"relu2\", \"relu1\")]")));
        Assert.All(Outputs(result, TrackingNames.Networks), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        var text = Assert.Single(result.GeneratedSources).SourceText.ToString();
        Assert.Contains("Sources = new[] { \"relu2\", \"relu1\" }", text, StringComparison.Ordinal);
        Assert.Contains("new(\"concat1\", \"Concat\", 12, 8, 8,", text, StringComparison.Ordinal);
        Assert.NotEqual(Fingerprint(before), Fingerprint(text));
    }

    [Fact]
    public void ReformattingAFrom_LeavesTheSpecUnchanged()
    {
        var (compilation, driver, _) = FirstBranchesRun();
        var result = Rerun(driver, WithNetwork(compilation, Branches.Replace("[Conv(1, 4, From = \"relu1\")]", "[Conv( 1, 4,\n  From=\"relu1\" )]")));
        AssertNetworkCached(result);
    }
}
