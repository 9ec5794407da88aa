using System.Runtime.CompilerServices;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>The sample networks' source files (Cnn.Samples/Networks), so the tests check the networks users build.</summary>
internal static class Networks
{
    public static string LeNet5 { get; } = Sample("LeNet5.cs");
    public static string AlexNet { get; } = Sample("AlexNet.cs");
    public static string Vgg16 { get; } = Sample("Vgg16.cs");
    public static string Zf5 { get; } = Sample("Zf5.cs");
    public static string LeNet5BatchNorm { get; } = Sample("LeNet5BatchNorm.cs");
    /// <summary>A small ResNet with identity shortcuts only (two residual blocks, pools between them): the chain-with-[Add]
    /// form these tests were written around. The `resnet` sample itself has since grown projection shortcuts and is
    /// checked in the samples' tests.</summary>
    public const string SmallResNet = """
        namespace CnnGen.Samples.Networks;

        /// <summary>
        /// A small ResNet for 28x28 grey images (seed 002's named networks): two residual blocks, each two 3x3 convolutions
        /// with BatchNorm whose output is added to the block's input by an identity shortcut (<c>[Add]</c>) before the ReLU.
        /// </summary>
        [Input(1, 28, 28)]
        [Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU]
        [Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 16, Padding = 1)] [BatchNorm] [Add("relu1")] [ReLU]
        [MaxPool(2)]
        [Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU]
        [Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 32, Padding = 1)] [BatchNorm] [Add("relu4")] [ReLU]
        [MaxPool(2)]
        [Dense(10)] [Softmax]
        public partial class SmallResNet { }
        """;

    public static string ResNet18 { get; } = Sample("ResNet18.cs");
    public static string MobileNetV2 { get; } = Sample("MobileNetV2.cs");

    private static string Sample(string file, [CallerFilePath] string callerFile = "")
    {
        for (var dir = Path.GetDirectoryName(callerFile); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string path = Path.Combine(dir, "Cnn.Samples", "Networks", file);
            if (File.Exists(path)) return File.ReadAllText(path);
        }
        throw new InvalidOperationException($"Cannot find Cnn.Samples/Networks/{file} above {callerFile}");
    }
}
