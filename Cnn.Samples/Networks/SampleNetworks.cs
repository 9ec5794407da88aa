namespace CnnGen.Samples.Networks;

/// <summary>The sample networks by command-line name.</summary>
public static class SampleNetworks
{
    public sealed record Entry(string Name, string Description, string Summary, long Parameters, Func<int, INetwork> Create, bool Trainable)
    {
        /// <summary>The generated class's name, which checkpoints record (the summary starts with it).</summary>
        public string ClassName => Summary[..Summary.IndexOf(':')];
    }

    public static readonly IReadOnlyList<Entry> All =
    [
        new("lenet5", "LeNet-5, 28x28 grey", LeNet5.Summary, LeNet5.ParameterCount, seed => new LeNet5(seed), true),
        new("lenet5bn", "LeNet-5 with BatchNorm, 28x28 grey", LeNet5BatchNorm.Summary, LeNet5BatchNorm.ParameterCount, seed => new LeNet5BatchNorm(seed), true),
        new("resnet", "a small ResNet (three stages of two residual blocks, projection shortcuts), 28x28 grey", SmallResNet.Summary, SmallResNet.ParameterCount, seed => new SmallResNet(seed), true),
        new("mlp", "seed 003's MLP, 28x28 grey", Mlp.Summary, Mlp.ParameterCount, seed => new Mlp(seed), true),
        new("deepnet", "two wider convolutions, 28x28 grey", DeepNet.Summary, DeepNet.ParameterCount, seed => new DeepNet(seed), true),
        new("alexnet", "AlexNet as torchvision builds it, 3x224x224", AlexNet.Summary, AlexNet.ParameterCount, seed => new AlexNet(seed), false),
        new("zf5", "ZF-5, 3x225x225", Zf5.Summary, Zf5.ParameterCount, seed => new Zf5(seed), false),
        new("vgg16", "VGG16 as torchvision builds it, 3x224x224", Vgg16.Summary, Vgg16.ParameterCount, seed => new Vgg16(seed), false),
        new("resnet18", "ResNet-18 as torchvision builds it, 3x224x224", ResNet18.Summary, ResNet18.ParameterCount, seed => new ResNet18(seed), false),
        new("mobilenetv2", "MobileNetV2 as torchvision builds it, 3x224x224", MobileNetV2.Summary, MobileNetV2.ParameterCount, seed => new MobileNetV2(seed), false),
        new("googlenet", "GoogLeNet as torchvision builds it (no auxiliary classifiers), 3x224x224", GoogLeNet.Summary, GoogLeNet.ParameterCount, seed => new GoogLeNet(seed), false),
        new("densenet121", "DenseNet-121 as torchvision builds it, 3x224x224", DenseNet121.Summary, DenseNet121.ParameterCount, seed => new DenseNet121(seed), false),
    ];

    public static Entry? Find(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name.Replace("-", ""), StringComparison.OrdinalIgnoreCase));
}
