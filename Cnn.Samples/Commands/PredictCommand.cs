using System.CommandLine;
using System.Globalization;
using CnnGen.Data;
using CnnGen.Samples.Cli;
using CnnGen.Samples.Images;

namespace CnnGen.Samples.Commands;

/// <summary><c>predict</c>: the most probable classes of one image (an IDX file entry, or a PNG, JPEG, BMP, PGM or PPM picture).</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("image") { Description = "An IDX images file (with --index), or a PNG, JPEG, BMP, PGM or PPM picture" };
        var model = CommonOptions.Model(trainableOnly: true);
        var checkpoint = CommonOptions.Checkpoint("Trained checkpoint (default checkpoints/<model>.safetensors)");
        var index = new Option<int>("--index", "-i") { Description = "Which image of an IDX file", DefaultValueFactory = _ => 0 };
        var top = new Option<int>("--top") { Description = "How many classes to print", DefaultValueFactory = _ => 3 };
        var invert = new Option<bool>("--invert") { Description = "Invert a picture's grey levels (Fashion-MNIST shows light objects on black)" };
        var command = new Command("predict", "Print the most probable classes of one image.") { file, model, checkpoint, index, top, invert };
        command.SetAction(parse =>
        {
            var entry = CommonOptions.ModelFor(parse, model, parse.GetValue(checkpoint), trainableOnly: true);
            if (entry is null) return 2;
            var loaded = CheckpointLoading.Load(entry, parse.GetValue(checkpoint), 1);
            if (loaded is null) return 1;
            var (network, info) = loaded.Value;
            string path = parse.GetValue(file)!;
            float[] image;
            try
            {
                image = ImageInput.Read(path, parse.GetValue(index), network.InputChannels, network.InputHeight, network.InputWidth, parse.GetValue(invert));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
            {
                Console.Error.WriteLine($"Cannot read {path}: {e.Message}");
                return 1;
            }
            float mean = DataLoading.MeanOf(info);
            for (int i = 0; i < image.Length; i++) image[i] -= mean;
            var probabilities = new float[network.OutputLength];
            network.Forward(image, probabilities, 1);
            var ranked = Enumerable.Range(0, probabilities.Length).OrderByDescending(i => probabilities[i]).Take(Math.Max(1, parse.GetValue(top)));
            foreach (int c in ranked)
                Console.WriteLine($"{c,3}  {Reports.Name(FashionMnist.ClassNames, c),-12} {(100 * probabilities[c]).ToString("F2", CultureInfo.InvariantCulture),6}%");
            return 0;
        });
        return command;
    }
}
