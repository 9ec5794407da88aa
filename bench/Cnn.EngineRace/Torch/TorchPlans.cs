namespace CnnGen.EngineRace.Torch;

/// <summary>The raced networks layer by layer, as declared by the attributes in <c>Networks/</c> (same layer names).</summary>
internal static class TorchPlans
{
    public static readonly IReadOnlyList<PlanStep> LeNet5 =
    [
        new ConvStep("conv1", 1, 6, 5, 2), new ReLUStep("relu1"), new MaxPoolStep("pool1", 2),
        new ConvStep("conv2", 6, 16, 5, 0), new ReLUStep("relu2"), new MaxPoolStep("pool2", 2),
        new DenseStep("dense1", 16 * 5 * 5, 120), new ReLUStep("relu3"),
        new DenseStep("dense2", 120, 84), new ReLUStep("relu4"),
        new DenseStep("dense3", 84, 10),
    ];

    public static readonly IReadOnlyList<PlanStep> CifarVgg =
    [
        new ConvStep("conv1", 3, 32, 3, 1), new ReLUStep("relu1"), new ConvStep("conv2", 32, 32, 3, 1), new ReLUStep("relu2"),
        new MaxPoolStep("pool1", 2),
        new ConvStep("conv3", 32, 64, 3, 1), new ReLUStep("relu3"), new ConvStep("conv4", 64, 64, 3, 1), new ReLUStep("relu4"),
        new MaxPoolStep("pool2", 2),
        new ConvStep("conv5", 64, 128, 3, 1), new ReLUStep("relu5"), new ConvStep("conv6", 128, 128, 3, 1), new ReLUStep("relu6"),
        new MaxPoolStep("pool3", 2),
        new DenseStep("dense1", 128 * 4 * 4, 10),
    ];

    public static readonly IReadOnlyList<PlanStep> CifarResNet = BuildResNet();

    /// <summary>Stem conv1/bn1/relu1; each stage: (after the first) a pool and a conv-BN-ReLU widening the channels,
    /// then two blocks conv-BN-ReLU-conv-BN-Add-ReLU whose shortcut starts at the block's input.</summary>
    private static List<PlanStep> BuildResNet()
    {
        var steps = new List<PlanStep>();
        int conv = 0, relu = 0, add = 0, pool = 0;
        void ConvBn(int inChannels, int outChannels)
        {
            conv++;
            steps.Add(new ConvStep($"conv{conv}", inChannels, outChannels, 3, 1));
            steps.Add(new BatchNormStep($"bn{conv}", outChannels));
        }
        string Relu()
        {
            steps.Add(new ReLUStep($"relu{++relu}"));
            return $"relu{relu}";
        }
        int channels = 3;
        foreach (int width in new[] { 16, 32, 64 })
        {
            if (channels != 3) steps.Add(new MaxPoolStep($"pool{++pool}", 2));
            ConvBn(channels, width);
            string blockInput = Relu();
            channels = width;
            for (int block = 0; block < 2; block++)
            {
                ConvBn(width, width);
                Relu();
                ConvBn(width, width);
                steps.Add(new AddStep($"add{++add}", blockInput));
                blockInput = Relu();
            }
        }
        steps.Add(new AvgPoolStep($"pool{++pool}", 8));
        steps.Add(new DenseStep("dense1", 64, 10));
        return steps;
    }
}
