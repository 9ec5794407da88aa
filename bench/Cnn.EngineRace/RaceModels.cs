using CnnGen.EngineRace.Networks;
using CnnGen.EngineRace.Torch;
using CnnGen.Samples.Networks;

namespace CnnGen.EngineRace;

/// <summary>A raced network: the generated class, the same network as a plan for the TorchSharp module (written out, or
/// read off the network's layer list), the batch its batch-inference figure runs, and whether training steps are raced
/// too (false: inference only).</summary>
internal sealed record RaceModel(string Name, Func<INetwork> Create, Func<INetwork, IReadOnlyList<PlanStep>> Plan,
    int InferenceBatch = RaceData.InferenceBatch, bool Trains = true)
{
    public static readonly IReadOnlyList<RaceModel> All =
    [
        new("lenet5", () => new LeNet5(seed: 0), _ => TorchPlans.LeNet5),
        new("cifar_vgg", () => new CifarVgg(seed: 0), _ => TorchPlans.CifarVgg),
        new("cifar_resnet", () => new CifarResNet(seed: 0), _ => TorchPlans.CifarResNet),
        // torchvision's networks at 3x224x224: inference only, and a batch of 32 keeps a run practical (ResNet-18 is
        // 1.8 GMAC per image, a batch of 256 about 0.47 TMAC).
        new("resnet18", () => new ResNet18(seed: 0), _ => TorchvisionPlans.ResNet18, InferenceBatch: LargeImageBatch, Trains: false),
        new("mobilenetv2", () => new MobileNetV2(seed: 0), _ => TorchvisionPlans.MobileNetV2, InferenceBatch: LargeImageBatch, Trains: false),
        // Their many branches: plans read off the networks' layer lists.
        new("googlenet", () => new GoogLeNet(seed: 0), LayerPlans.From, InferenceBatch: LargeImageBatch, Trains: false),
        new("densenet121", () => new DenseNet121(seed: 0), LayerPlans.From, InferenceBatch: LargeImageBatch, Trains: false),
    ];

    /// <summary>The batch-inference figure's batch for the 224x224 networks.</summary>
    private const int LargeImageBatch = 32;

    public static RaceModel? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    public string CheckpointPath(string directory) => Path.Combine(directory, Name + ".safetensors");
    public string OnnxPath(string directory) => Path.Combine(directory, Name + ".onnx");
    public string CheckInputsPath(string directory) => Path.Combine(directory, Name + ".check_inputs.f32");
}
