using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;

namespace CnnGen.Generator.Tests;

/// <summary>
/// CNN0032: a member of the user's that the generated code would clash with (CS0102, CS0111, CS8862) is reported on
/// the user's member, naming what it collides with, and nothing is generated; members that clash with nothing compile.
/// </summary>
public class MemberCollisionTests
{
    private const string Layers = "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Dense(3)] [Softmax]\n";

    [Fact]
    public void CNN0032_APropertyNamedLikeAGeneratedProperty() =>
        Error(Layers + "public partial class Net { public int [|Parameters|] => 3; }",
            "CNN0032", "'Net': the property Parameters collides with the generated property Parameters");

    [Fact]
    public void CNN0032_AMethodWithAGeneratedMethodsParameters() =>
        Error(Layers + "public partial class Net { public int [|Predict|](System.ReadOnlySpan<float> image) => 0; }",
            "CNN0032", "the method Predict(ReadOnlySpan<float>) collides with the generated method Predict(ReadOnlySpan<float>)");

    [Fact]
    public void CNN0032_AMethodNamedLikeAGeneratedConstant() =>
        Error(Layers + "public partial class Net { public string [|Summary|]() => \"\"; }",
            "CNN0032", "the method Summary() collides with the generated constant Summary");

    [Fact]
    public void CNN0032_AFieldNamedLikeALayersGeneratedMethod() =>
        Error(Layers + "public partial class Net { private int [|Forward_conv1|]; }",
            "CNN0032", "the field Forward_conv1 collides with the generated method Forward_conv1(");

    [Fact]
    public void CNN0032_ANestedTypeNamedLikeTheGeneratedWorkspace() =>
        Error(Layers + "public partial class Net { private sealed class [|Workspace|] { } }",
            "CNN0032", "the nested type Workspace collides with the generated nested type Workspace");

    [Fact]
    public void CNN0032_AConstructorTakingOneInt() =>
        Error(Layers + "public partial class Net { public [|Net|](int size) { } }",
            "CNN0032", "the constructor Net(int) collides with the generated constructor Net(int seed = 0)");

    [Fact]
    public void CNN0032_APrimaryConstructor() =>
        Error(Layers + "public partial class Net[|(string label)|] { public string Label => label; }",
            "CNN0032", "the primary constructor collides with the generated constructor Net(int seed = 0), which cannot call it");

    [Fact]
    public void CNN0032_EveryCollidingMemberIsReported()
    {
        var run = TestDriver.Run(Header + Layers + "public partial class Net { public int Threads; public void Freeze(string layer) { } public bool Training() => true; }");
        Assert.Null(run.Result.Exception);
        Assert.Equal(3, run.GeneratorDiagnostics.Count(d => d.Id == "CNN0032"));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void CNN0032_InAPartialDeclarationWithoutTheAttributes()
    {
        var run = TestDriver.Run(Header + Layers + "public partial class Net { }", "namespace Tests; public partial class Net { public int StateLength; }");
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("CNN0032", d.Id);
        Assert.Equal("Source1.cs", d.Location.GetLineSpan().Path);
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void MembersThatClashWithNothing_Compile()
    {
        // Other overloads of generated methods, a parameterless constructor that calls the generated one, other names.
        var run = TestDriver.Run(Header + Layers + """
            public partial class Net
            {
                public Net() : this(7) { }
                public int Predict(float[] image) => Predict(new System.ReadOnlySpan<float>(image));
                public void Forward(float[] input, float[] output) => Forward(new System.ReadOnlySpan<float>(input), new System.Span<float>(output));
                public string Label { get; set; } = "net";
                private readonly int _mine = 1;
                public int Mine => _mine;
                public static int Freeze(int layer) => layer;
            }
            """);
        Assert.Null(run.Result.Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Sources);
        // The user's members call generated ones, so only the compilation with the generated code is clean.
        Assert.True(run.OutputProblems.Count == 0, string.Join("\n", run.OutputProblems));
        var type = LoadedNetwork.Load(run, "Tests.Net");
        var network = (INetwork)Activator.CreateInstance(type)!;
        Assert.Equal(3, network.OutputLength);
    }
}
