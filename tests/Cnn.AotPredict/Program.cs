using System.Globalization;
using CnnGen.AotPredict;
using CnnGen.Checkpoints;

// aot-predict CHECKPOINT IMAGE: the most probable class of one image and every class's probability.
// A PGM picture is scaled to [0, 1] and the checkpoint's input_mean (if any) is subtracted; a raw float32 file is used as is.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Cnn.AotPredict CHECKPOINT.safetensors IMAGE (a binary PGM, or 784 raw little-endian float32 values)");
    return 2;
}
try
{
    var network = new LeNet5(seed: 0);
    var info = Checkpoint.Load(args[0], network);
    var input = InputImage.Read(args[1], LeNet5.InputWidth, LeNet5.InputHeight, out bool isPicture);
    if (isPicture && info.Metadata.TryGetValue("input_mean", out var meanText))
    {
        float mean = float.Parse(meanText, CultureInfo.InvariantCulture);
        for (int i = 0; i < input.Length; i++) input[i] -= mean;
    }
    var probabilities = new float[LeNet5.OutputLength];
    network.Forward(input, probabilities, 1);
    int best = network.Predict(input);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"class {best} ({probabilities[best]:F4})"));
    Console.WriteLine(string.Join(" ", probabilities.Select(p => p.ToString("F4", CultureInfo.InvariantCulture))));
    return 0;
}
catch (Exception e) when (e is IOException or InvalidDataException or CheckpointException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine($"Cnn.AotPredict: {e.Message}");
    return 1;
}
