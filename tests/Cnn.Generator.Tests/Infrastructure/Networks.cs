namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>Network declarations used by several tests, as source text.</summary>
internal static class Networks
{
    public const string LeNet5 = """
        using CnnGen;
        namespace CnnGen.Samples.Networks;

        /// <summary>LeNet-5 for 28x28 grey images.</summary>
        [Input(1, 28, 28)]
        [Conv(5, 6, Padding = 2)] [ReLU] [MaxPool(2)]
        [Conv(5, 16)] [ReLU] [MaxPool(2)]
        [Dense(120)] [ReLU]
        [Dense(84)] [ReLU]
        [Dense(10)] [Softmax]
        public partial class LeNet5 { }
        """;

    /// <summary>AlexNet as seed 004 lists it (filter/stride/pad): conv1 11/4/0, pool1 3/2/0, conv2 5/1/2, pool2 3/2/0,
    /// conv3-5 3/1/1, pool5 3/2/0.</summary>
    public const string AlexNet = """
        using CnnGen;
        namespace Zoo;

        [Input(3, 227, 227)]
        [Conv(11, 96, Stride = 4)] [ReLU] [MaxPool(3, Stride = 2)]
        [Conv(5, 256, Padding = 2)] [ReLU] [MaxPool(3, Stride = 2)]
        [Conv(3, 384, Padding = 1)] [ReLU]
        [Conv(3, 384, Padding = 1)] [ReLU]
        [Conv(3, 256, Padding = 1)] [ReLU] [MaxPool(3, Stride = 2)]
        [Dense(4096)] [ReLU]
        [Dense(4096)] [ReLU]
        [Dense(1000)] [Softmax]
        public partial class AlexNet { }
        """;

    public const string Vgg16 = """
        using CnnGen;
        namespace Zoo;

        [Input(3, 224, 224)]
        [Conv(3, 64, Padding = 1)] [ReLU] [Conv(3, 64, Padding = 1)] [ReLU] [MaxPool(2)]
        [Conv(3, 128, Padding = 1)] [ReLU] [Conv(3, 128, Padding = 1)] [ReLU] [MaxPool(2)]
        [Conv(3, 256, Padding = 1)] [ReLU] [Conv(3, 256, Padding = 1)] [ReLU] [Conv(3, 256, Padding = 1)] [ReLU] [MaxPool(2)]
        [Conv(3, 512, Padding = 1)] [ReLU] [Conv(3, 512, Padding = 1)] [ReLU] [Conv(3, 512, Padding = 1)] [ReLU] [MaxPool(2)]
        [Conv(3, 512, Padding = 1)] [ReLU] [Conv(3, 512, Padding = 1)] [ReLU] [Conv(3, 512, Padding = 1)] [ReLU] [MaxPool(2)]
        [Dense(4096)] [ReLU]
        [Dense(4096)] [ReLU]
        [Dense(1000)] [Softmax]
        public partial class Vgg16 { }
        """;
}
