using CnnGen.EngineRace.Networks;

namespace CnnGen.TrainProfile;

/// <summary>A CIFAR network in training mode on a number of threads, and a batch of 64 random images and labels (the
/// same for every run: seeded) for its training steps.</summary>
internal sealed record TrainingBatch(INetwork Network, float[] Inputs, int[] Labels)
{
    public const int Size = 64;

    /// <exception cref="ArgumentException">A model other than the CIFAR VGG or ResNet.</exception>
    public static TrainingBatch Create(string model, int threads)
    {
        INetwork network = model switch
        {
            "cifar_vgg" => new CifarVgg(seed: 0),
            "cifar_resnet" => new CifarResNet(seed: 0),
            _ => throw new ArgumentException($"unknown model '{model}' (cifar_vgg, cifar_resnet)"),
        };
        network.Threads = threads;
        network.Training = true;
        var random = new Random(2);
        var inputs = new float[network.InputLength * Size];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(random.NextDouble() - 0.5);
        var labels = new int[Size];
        for (int i = 0; i < Size; i++) labels[i] = random.Next(network.OutputLength);
        return new TrainingBatch(network, inputs, labels);
    }
}
