using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>The generated code of sound networks compiles without a warning, and the generator reports nothing.</summary>
public class GeneratedCodeCompilesTests
{
    [Fact] public void LeNet5() => AssertCompilesCleanly(Networks.LeNet5);
    [Fact] public void Vgg16() => AssertCompilesCleanly(Networks.Vgg16);

    /// <summary>torchvision's AlexNet at 224x224: conv1's stride 4 leaves the last input row and column unread, as
    /// torchvision's does, which CNN0011 says (once); nothing else.</summary>
    [Fact]
    public void AlexNet()
    {
        var run = TestDriver.Run(Networks.AlexNet);
        Assert.Null(run.Result.Exception);
        Assert.Equal("CNN0011", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Contains("features.0", Assert.Single(run.GeneratorDiagnostics).GetMessage());
        Assert.Empty(run.OutputProblems);
    }

    [Theory]
    [InlineData("rectangular input", "[Input(3, 16, 40)] [Conv(3, 8, Padding = 1)] [ReLU] [MaxPool(2)] [Conv(4, 4, Stride = 2)] [Dense(7)]")]
    [InlineData("strides and paddings", "[Input(2, 31, 31)] [Conv(7, 4, Stride = 3, Padding = 3)] [AvgPool(3, Stride = 2, Padding = 1)] [MaxPool(3, Stride = 1, Padding = 1)] [Tanh] [Dense(3)] [Softmax]")]
    [InlineData("1x1 convolutions", "[Input(16, 9, 9)] [Conv(1, 8)] [ReLU] [Conv(1, 4, Stride = 2)] [Conv(1, 2, Padding = 0)] [Sigmoid] [Dense(2)]")]
    [InlineData("every activation", "[Input(1, 12, 12)] [Conv(3, 4)] [ReLU] [Conv(3, 4)] [LeakyReLU] [Conv(3, 4)] [LeakyReLU(0.2f)] [ELU] [ELU(0.5f)] [Sigmoid] [Tanh] [Dense(5)] [Softmax]")]
    [InlineData("only dense layers", "[Input(1, 1, 1)] [Dense(1)]")]
    [InlineData("activations only", "[Input(2, 3, 4)] [ReLU] [Tanh]")]
    [InlineData("softmax only", "[Input(10, 1, 1)] [Softmax]")]
    [InlineData("pool first, no trainable layer before it", "[Input(3, 9, 9)] [MaxPool(3)] [AvgPool(3)] [Dense(2)] [Softmax]")]
    [InlineData("named layers", "[Input(1, 6, 6)] [Conv(3, 2, Name = \"stem\")] [ReLU(Name = \"act_0\")] [Dense(2, Name = \"head\")]")]
    [InlineData("kernel as large as the input", "[Input(3, 5, 7)] [Conv(5, 4, Padding = 1)] [MaxPool(3, Stride = 2)]")]
    public void OddNetwork(string what, string attributes)
    {
        Assert.NotEmpty(what);
        AssertCompilesCleanly("using CnnGen;\nnamespace Odd;\n" + attributes + "\npublic partial class Net { }");
    }

    [Fact]
    public void NestedInPartialTypes() => AssertCompilesCleanly("""
        using CnnGen;
        namespace Odd.Deeper;
        public partial class Outer
        {
            internal partial struct Middle
            {
                [Input(1, 8, 8)] [Conv(3, 2)] [ReLU] [Dense(3)] [Softmax]
                private sealed partial class Net { }
            }
        }
        public partial record Holder { [Input(1, 4, 4)] [Dense(2)] public partial class Inner { } }
        """, expectedSources: 2);

    [Fact]
    public void ClassNamedWithAKeyword() => AssertCompilesCleanly("""
        using CnnGen;
        namespace Odd;
        [Input(1, 4, 4)] [Dense(3)]
        public partial class @class { }
        """);

    [Fact]
    public void HugePoolWindowDividesByItsExactSize() => AssertCompilesCleanly("""
        using CnnGen;
        namespace Odd;
        [Input(1, 1, 1)] [AvgPool(46341, Padding = 23170)] [Dense(2)]
        public partial class Net { }
        """);

    [Fact]
    public void GlobalNamespace() => AssertCompilesCleanly("""
        using CnnGen;
        [Input(1, 8, 8)] [Conv(3, 2)] [MaxPool(2)] [Dense(3)]
        internal partial class GlobalNet { }
        """);

    [Fact]
    public void SeveralNetworksInOneFile() => AssertCompilesCleanly(
        Networks.LeNet5 + "\n[Input(1, 28, 28)] [Dense(10)] public partial class Twin { }\n" +
        "[Input(1, 28, 28)] [Dense(10)] [Softmax] public partial class Triplet { }", expectedSources: 3);

    [Fact]
    public void InputOnTwoDeclarationsOfOneClass_IsGeneratedOnce()
    {
        // [Input] on two partial declarations is one duplicate, reported once, not two networks.
        var run = TestDriver.Run("using CnnGen;\n[Input(1, 4, 4)] [Dense(2)] public partial class Net { }\n[Input(1, 4, 4)] public partial class Net { }");
        Assert.Equal(new[] { "CNN0002" }, run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Empty(run.Sources);
    }
}
