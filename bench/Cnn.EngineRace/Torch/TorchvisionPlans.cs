namespace CnnGen.EngineRace.Torch;

/// <summary>torchvision 0.14's <c>resnet18()</c> and <c>mobilenet_v2()</c> (3x224x224, 1000 classes) as plans, built
/// the way torchvision builds them, with layers under torchvision's module names (= its state_dict keys).</summary>
internal static class TorchvisionPlans
{
    /// <summary>torchvision's inverted residual setting: expansion t, output channels c, blocks n, first stride s
    /// (declared before the plans: their initialisers read it).</summary>
    private static readonly (int T, int C, int N, int S)[] InvertedResidualSetting =
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

    public static readonly IReadOnlyList<PlanStep> ResNet18 = BuildResNet18();

    public static readonly IReadOnlyList<PlanStep> MobileNetV2 = BuildMobileNetV2();

    /// <summary>Stem conv-BN-ReLU and a 3x3 stride-2 max pool; four stages of two basic blocks (widths 64 to 512, the
    /// first block of stages 2-4 halving the map); a basic block is conv-BN-ReLU-conv-BN plus the shortcut, then
    /// ReLU; the shortcut is the block's input, or a 1x1 strided conv-BN of it ("downsample") where the shape
    /// changes. Global average pool, fc.</summary>
    private static List<PlanStep> BuildResNet18()
    {
        var steps = new List<PlanStep>
        {
            new ConvStep("conv1", 3, 64, 7, 3, Stride: 2, Bias: false), new BatchNormStep("bn1", 64), new ReLUStep("relu"),
            new MaxPoolStep("maxpool", 3, Stride: 2, Padding: 1),
        };
        string blockInput = "maxpool";
        int channels = 64;
        foreach (var (stage, width) in new[] { (1, 64), (2, 128), (3, 256), (4, 512) })
        {
            for (int block = 0; block < 2; block++)
            {
                string p = $"layer{stage}.{block}";
                int stride = stage > 1 && block == 0 ? 2 : 1;
                steps.Add(new ConvStep($"{p}.conv1", channels, width, 3, 1, Stride: stride, Bias: false));
                steps.Add(new BatchNormStep($"{p}.bn1", width));
                steps.Add(new ReLUStep($"{p}.relu"));
                steps.Add(new ConvStep($"{p}.conv2", width, width, 3, 1, Bias: false));
                steps.Add(new BatchNormStep($"{p}.bn2", width));
                if (stride != 1 || channels != width)
                {
                    steps.Add(new ConvStep($"{p}.downsample.0", channels, width, 1, 0, Stride: stride, Bias: false) { From = blockInput });
                    steps.Add(new BatchNormStep($"{p}.downsample.1", width));
                    steps.Add(new AddStep($"{p}.add", $"{p}.bn2"));
                }
                else
                {
                    steps.Add(new AddStep($"{p}.add", blockInput));
                }
                steps.Add(new ReLUStep($"{p}.out"));
                blockInput = $"{p}.out";
                channels = width;
            }
        }
        steps.Add(new GlobalAvgPoolStep("avgpool"));
        steps.Add(new DenseStep("fc", 512, 1000));
        return steps;
    }

    /// <summary>Stem 3x3 stride-2 conv-BN-ReLU6 to 32; inverted residual blocks <c>features.1..17</c>: 1x1 expansion
    /// conv-BN-ReLU6 (unless t = 1), 3x3 depthwise conv-BN-ReLU6 (the block's stride), 1x1 projection conv-BN, plus
    /// the block's input where stride 1 keeps the channels; 1x1 conv-BN-ReLU6 to 1280; global average pool, dropout
    /// 0.2, classifier.</summary>
    private static List<PlanStep> BuildMobileNetV2()
    {
        var steps = new List<PlanStep>
        {
            new ConvStep("features.0.0", 3, 32, 3, 1, Stride: 2, Bias: false), new BatchNormStep("features.0.1", 32),
            new ReLU6Step("features.0.2"),
        };
        string blockInput = "features.0.2";
        int channels = 32, index = 1;
        foreach (var (t, c, n, s) in InvertedResidualSetting)
        {
            for (int i = 0; i < n; i++, index++)
            {
                string p = $"features.{index}.conv";
                int stride = i == 0 ? s : 1, hidden = channels * t, k = 0;
                if (t != 1)
                {
                    steps.Add(new ConvStep($"{p}.0.0", channels, hidden, 1, 0, Bias: false));
                    steps.Add(new BatchNormStep($"{p}.0.1", hidden));
                    steps.Add(new ReLU6Step($"{p}.0.2"));
                    k = 1;
                }
                steps.Add(new ConvStep($"{p}.{k}.0", hidden, hidden, 3, 1, Stride: stride, Groups: hidden, Bias: false));
                steps.Add(new BatchNormStep($"{p}.{k}.1", hidden));
                steps.Add(new ReLU6Step($"{p}.{k}.2"));
                steps.Add(new ConvStep($"{p}.{k + 1}", hidden, c, 1, 0, Bias: false));
                steps.Add(new BatchNormStep($"{p}.{k + 2}", c));
                string output = $"{p}.{k + 2}";
                if (stride == 1 && channels == c)
                {
                    output = $"features.{index}.add";
                    steps.Add(new AddStep(output, blockInput));
                }
                blockInput = output;
                channels = c;
            }
        }
        steps.Add(new ConvStep("features.18.0", channels, 1280, 1, 0, Bias: false));
        steps.Add(new BatchNormStep("features.18.1", 1280));
        steps.Add(new ReLU6Step("features.18.2"));
        steps.Add(new GlobalAvgPoolStep("pool"));
        steps.Add(new DropoutStep("classifier.0", 0.2));
        steps.Add(new DenseStep("classifier.1", 1280, 1000));
        return steps;
    }
}
