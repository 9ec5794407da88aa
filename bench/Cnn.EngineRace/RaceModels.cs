using CnnGen.EngineRace.Networks;
using CnnGen.EngineRace.Torch;

namespace CnnGen.EngineRace;

/// <summary>A raced network: the generated class, the same network as a plan for the TorchSharp module, the batch its
/// batch-inference figure runs, and whether training steps are raced too (false: inference only).</summary>
internal sealed record RaceModel(string Name, Func<INetwork> Create, IReadOnlyList<PlanStep> Plan,
    int InferenceBatch = RaceData.InferenceBatch, bool Trains = true)
{
    public static readonly IReadOnlyList<RaceModel> All =
    [
        new("lenet5", () => new LeNet5(seed: 0), TorchPlans.LeNet5),
        new("cifar_vgg", () => new CifarVgg(seed: 0), TorchPlans.CifarVgg),
        new("cifar_resnet", () => new CifarResNet(seed: 0), TorchPlans.CifarResNet),
    ];

    public static RaceModel? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    public string CheckpointPath(string directory) => Path.Combine(directory, Name + ".safetensors");
    public string OnnxPath(string directory) => Path.Combine(directory, Name + ".onnx");
    public string CheckInputsPath(string directory) => Path.Combine(directory, Name + ".check_inputs.f32");
}
