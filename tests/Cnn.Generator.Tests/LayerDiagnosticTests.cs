using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;

namespace CnnGen.Generator.Tests;

/// <summary>Diagnostics about layer arguments and layer order: CNN0007-CNN0015 and CNN0017-CNN0019.</summary>
public class LayerDiagnosticTests
{
    [Theory]
    [InlineData("[[|Input(0, 28, 28)|]] [Dense(10)]", "input: channels must be positive, but is 0")]
    [InlineData("[[|Input(1, -28, 28)|]] [Dense(10)]", "input: height must be positive, but is -28")]
    [InlineData("[Input(1, 28, 28)] [[|Conv(0, 6)|]]", "conv1 (layer 1): kernel size must be positive, but is 0")]
    [InlineData("[Input(1, 28, 28)] [ReLU] [[|Conv(3, -6)|]]", "conv1 (layer 2): filter count must be positive, but is -6")]
    [InlineData("[Input(1, 28, 28)] [[|Conv(3, 6, Stride = 0)|]]", "conv1 (layer 1): stride must be positive, but is 0")]
    [InlineData("[Input(1, 28, 28)] [Conv(3, 6)] [[|MaxPool(-2)|]]", "pool1 (layer 2): pool size must be positive, but is -2")]
    [InlineData("[Input(1, 28, 28)] [[|AvgPool(2, Stride = -1)|]]", "pool1 (layer 1): stride must be positive, but is -1")]
    [InlineData("[Input(1, 28, 28)] [Dense(10)] [[|Dense(0)|]]", "dense2 (layer 2): units must be positive, but is 0")]
    [InlineData("[Input(1, 28, 28)] [[|Dense(int.MinValue)|]]", "dense1 (layer 1): units must be positive, but is -2147483648")]
    public void CNN0007_NonPositiveSize(string attributes, string message) =>
        Error(attributes + "\npublic partial class Net { }", "CNN0007", message);

    [Theory]
    [InlineData("[[|Conv(3, 6, Padding = -1)|]]", "conv1 (layer 1): padding must be zero or more, but is -1")]
    [InlineData("[[|MaxPool(2, Padding = -3)|]]", "pool1 (layer 1): padding must be zero or more, but is -3")]
    public void CNN0008_NegativePadding(string layer, string message) =>
        Error("[Input(1, 28, 28)] " + layer + "\npublic partial class Net { }", "CNN0008", message);

    [Theory]
    [InlineData("[[|MaxPool(2, Padding = 2)|]]", "pool1 (layer 1): padding 2 is more than half of the 2x2 window (at most 1)")]
    [InlineData("[[|AvgPool(5, Padding = 3)|]]", "pool1 (layer 1): padding 3 is more than half of the 5x5 window (at most 2)")]
    public void CNN0009_PoolPaddingAboveHalfTheWindow(string layer, string message) =>
        Error("[Input(1, 28, 28)] " + layer + "\npublic partial class Net { }", "CNN0009", message);

    [Fact]
    public void CNN0010_KernelLargerThanItsInput() =>
        Error("""
            [Input(1, 12, 12)]
            [Conv(5, 6)] [ReLU] [MaxPool(2)]
            [[|Conv(5, 16)|]] [ReLU]
            [Dense(10)]
            public partial class Net { }
            """, "CNN0010", "conv2 (layer 4): 5x5 kernel does not fit its 4x4 input (output of pool1)");

    [Fact]
    public void CNN0010_KernelLargerThanThePaddedInput() =>
        Error("""
            [Input(2, 3, 9)]
            [[|Conv(6, 4, Padding = 1)|]]
            public partial class Net { }
            """, "CNN0010", "conv1 (layer 1): 6x6 kernel does not fit its 3x9 (5x11 with padding 1) input (the network input)");

    [Fact]
    public void CNN0010_PoolWindowLargerThanItsInput() =>
        Error("""
            [Input(3, 9, 9)]
            [Conv(3, 4, Stride = 2, Name = "stem")]
            [[|AvgPool(5)|]]
            public partial class Net { }
            """, "CNN0010", "pool1 (layer 2): 5x5 pool window does not fit its 4x4 input (output of stem)");

    [Fact]
    public void CNN0011_StrideLeavesRowsAndColumnsUnread() =>
        Warning("""
            [Input(3, 224, 224)]
            [[|Conv(11, 96, Stride = 4)|]] [ReLU]
            [Dense(10)]
            public partial class Net { }
            """, "CNN0011", "conv1 (layer 1): stride 4 leaves the last 1 row and 1 column of the padded 224x224 input unread");

    [Fact]
    public void CNN0011_StrideLeavesColumnsUnread() =>
        Warning("""
            [Input(1, 9, 12)]
            [Conv(3, 2, Padding = 1)]
            [[|MaxPool(3, Stride = 2)|]]
            public partial class Net { }
            """, "CNN0011", "pool1 (layer 2): stride 2 leaves the last 1 column of the padded 9x12 input unread");

    [Fact]
    public void CNN0012_PaddingReachesTheKernel() =>
        Warning("""
            [Input(1, 8, 8)]
            [[|Conv(3, 4, Padding = 3)|]]
            [Dense(2)]
            public partial class Net { }
            """, "CNN0012", "conv1 (layer 1): padding 3 is not smaller than the 3x3 kernel");

    [Fact]
    public void CNN0013_SoftmaxNotLast() =>
        Error("""
            [Input(1, 28, 28)]
            [Dense(10)] [[|Softmax|]] [Dense(5)]
            public partial class Net { }
            """, "CNN0013", "softmax1 (layer 2): [Softmax] must be the last layer, but dense2 follows it");

    [Fact]
    public void CNN0014_SoftmaxTwice() =>
        Reports("""
            [Input(1, 28, 28)]
            [Dense(10)] [Softmax] [[|Softmax|]]
            public partial class Net { }
            """, "CNN0014", Microsoft.CodeAnalysis.DiagnosticSeverity.Error,
            new[] { "softmax2 (layer 3): the network already has a [Softmax] (softmax1, layer 2)" }, "CNN0013");

    [Theory]
    [InlineData("[[|Conv(3, 4)|]]", "conv1 (layer 3): a convolution needs a spatial input, but dense1 already flattened it to 10 values")]
    [InlineData("[[|MaxPool(2)|]]", "pool1 (layer 3): a max pool needs a spatial input, but dense1 already flattened it to 10 values")]
    [InlineData("[[|AvgPool(1)|]]", "pool1 (layer 3): an average pool needs a spatial input, but dense1 already flattened it to 10 values")]
    public void CNN0015_SpatialLayerAfterDense(string layer, string message) =>
        Error("[Input(1, 28, 28)] [Dense(10)] [ReLU] " + layer + "\npublic partial class Net { }", "CNN0015", message);

    [Theory]
    [InlineData("[Conv(3, 4)] [[|ReLU(Name = \"a b\")|]]", "layer 2: name 'a b' must be non-empty and use only letters, digits and '_'")]
    [InlineData("[[|Conv(3, 4, Name = \"\")|]]", "layer 1: name '' must be non-empty")]
    [InlineData("[[|Conv(3, 4, Name = \"conv1..w\")|]]", "layer 1: name 'conv1..w' must be non-empty and use only letters, digits and '_', with single dots between parts as in 'layer1.0.conv1'")]
    [InlineData("[[|Conv(3, 4, Name = \".w\")|]]", "layer 1: name '.w' must be non-empty")]
    [InlineData("[[|Conv(3, 4, Name = \"w.\")|]]", "layer 1: name 'w.' must be non-empty")]
    [InlineData("[Conv(3, 4, Name = \"a_b\")] [[|ReLU(Name = \"a.b\")|]]", "a.b (layer 2): 'a.b' and 'a_b' differ only in '.' and '_', which the generated code cannot tell apart; rename one")]
    [InlineData("[Conv(3, 4, Name = \"x\")] [[|ReLU(Name = \"x\")|]]", "x (layer 2): another layer is already named 'x'")]
    [InlineData("[Conv(3, 4, Name = \"conv2\")] [[|Conv(3, 4)|]]", "conv2 (layer 2): another layer is already named 'conv2'")]
    public void CNN0017_BadOrDuplicateLayerName(string layers, string message) =>
        Error("[Input(1, 28, 28)] " + layers + "\npublic partial class Net { }", "CNN0017", message);

    [Theory]
    [InlineData("[[|Input(1024, 1024, 1025)|]] [Dense(10)]", "input: the input has 1074790400 values, more than this library handles (1073741824)")]
    [InlineData("[Input(1, 1024, 1024)] [[|Dense(1025)|]]", "dense1 (layer 1): the weight has 1074790400 values, more than this library handles (1073741824)")]
    [InlineData("[Input(1, 1024, 1024)] [[|Conv(1, 1025)|]]", "conv1 (layer 1): the output has 1074790400 values")]
    [InlineData("[Input(65536, 1, 1)] [[|Conv(1, 16385)|]]", "conv1 (layer 1): the weight has 1073807360 values")]
    // Output, weight and input are small, but the im2col buffer holds 7x7 patches of 100000 channels at 24x24 positions.
    [InlineData("[Input(100000, 30, 30)] [[|Conv(7, 1)|]]", "conv1 (layer 1): the im2col buffer has 2822400000 values, more than this library handles (1073741824)")]
    [InlineData("[Input(1, 2048, 2048)] [[|Conv(17, 1, Padding = 8)|]]", "conv1 (layer 1): the im2col buffer has 1212153856 values")]
    public void CNN0018_TensorTooLarge(string attributes, string message) =>
        Error(attributes + "\npublic partial class Net { }", "CNN0018", message);

    [Theory]
    [InlineData("[[|LeakyReLU(float.NaN)|]]", "leakyrelu1 (layer 2): slope must be a finite number, but is NaN")]
    [InlineData("[[|ELU(float.PositiveInfinity)|]]", "elu1 (layer 2): alpha must be a finite number, but is Infinity")]
    public void CNN0019_NonFiniteSlope(string activation, string message) =>
        Error("[Input(1, 28, 28)] [Dense(10)] " + activation + "\npublic partial class Net { }", "CNN0019", message);

    [Theory]
    [InlineData("[[|Dropout(1f)|]]", "dropout1 (layer 2): the dropout rate must be at least 0 and below 1, but is 1")]
    [InlineData("[[|Dropout(-0.25f)|]]", "dropout1 (layer 2): the dropout rate must be at least 0 and below 1, but is -0.25")]
    public void CNN0020_DropoutRateOutsideTheUnitInterval(string dropout, string message) =>
        Error("[Input(1, 28, 28)] [Dense(10)] " + dropout + "\npublic partial class Net { }", "CNN0020", message);

    [Fact]
    public void CNN0021_MaxoutPiecesMustDivideTheChannels() =>
        Error("[Input(1, 28, 28)] [Conv(5, 6)] [[|Maxout(4)|]]\npublic partial class Net { }", "CNN0021",
            "maxout1 (layer 2): 6 channels cannot be split into groups of 4 pieces");

    [Fact]
    public void CNN0021_MaxoutOnUnits() =>
        Error("[Input(1, 28, 28)] [Dense(10)] [[|Maxout(3)|]]\npublic partial class Net { }", "CNN0021",
            "maxout1 (layer 2): 10 units cannot be split into groups of 3 pieces");

    [Fact]
    public void CNN0022_FrozenWithoutParametersIsAWarning() =>
        Warning("[Input(1, 28, 28)] [Dense(10)] [[|ReLU(Frozen = true)|]]\npublic partial class Net { }", "CNN0022",
            "relu1 (layer 2): ReLU layers have no parameters, so Frozen = true changes nothing");
}
