using CnnGen.Checkpoints;
using CnnGen.Optimizers;
using CnnGen.Training;
using Consumer;

// Installs-and-works check of the CnnGen package: the generator made LeNet5, the runtime trains it on generated
// stripes, predicts, and a checkpoint round-trips. Exit code 1 and one line saying what was wrong otherwise.
var failures = new List<string>();
void Check(bool condition, string failure)
{
    if (!condition) failures.Add(failure);
}

var network = new LeNet5(seed: 1);
Check(LeNet5.ParameterCount == 61_706, $"LeNet5 has {LeNet5.ParameterCount} parameters, expected 61,706");
Check(LeNet5.Layers.Count == 12 && LeNet5.Layers[0].Name == "conv1", $"LeNet5 has {LeNet5.Layers.Count} layers, the first {LeNet5.Layers[0].Name}; expected 12, the first conv1");

var train = StripeImages.Create(2_000, seed: 2);
var test = StripeImages.Create(500, seed: 3);
var trainer = new Trainer(network, new Sgd(0.05f, momentum: 0.9f), new ConstantSchedule(0.05f),
    new TrainerOptions { Epochs = 2, BatchSize = 50, Seed = 4 });
var reports = trainer.Fit(train, test);
double accuracy = reports[^1].Test!.Accuracy;
Console.WriteLine($"LeNet5 trained for {reports.Count} epochs on generated stripes: train loss {reports[^1].TrainLoss:F4}, test accuracy {accuracy:P2}");
Check(accuracy >= 0.95, $"test accuracy {accuracy:P2} after training, expected at least 95%");

var probabilities = new float[LeNet5.OutputLength];
for (int label = 0; label < StripeImages.Classes; label++)
{
    var image = StripeImages.Image(label, seed: 100 + label);
    int predicted = network.Predict(image);
    network.Forward(image, probabilities, 1);
    Console.WriteLine($"stripe {label}: predicted {predicted} ({probabilities[predicted]:P1})");
    Check(predicted == label, $"the stripe of class {label} was predicted as {predicted}");
    Check(Math.Abs(probabilities.Sum() - 1f) < 1e-4f, $"probabilities of stripe {label} sum to {probabilities.Sum()}, not 1");
}

string checkpoint = Path.Combine(Path.GetTempPath(), $"cnngen-consumer-{Environment.ProcessId}.safetensors");
try
{
    Checkpoint.Save(checkpoint, network);
    var loaded = new LeNet5(seed: 99);
    Checkpoint.Load(checkpoint, loaded);
    Check(loaded.Parameters.SequenceEqual(network.Parameters), "a loaded checkpoint differs from the saved network");
}
finally
{
    File.Delete(checkpoint);
}

foreach (var failure in failures)
    Console.Error.WriteLine($"consumer check failed: {failure}");
Console.WriteLine(failures.Count == 0 ? "consumer check passed" : $"consumer check: {failures.Count} failure(s)");
return failures.Count == 0 ? 0 : 1;
