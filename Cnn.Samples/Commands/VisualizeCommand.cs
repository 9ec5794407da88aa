using System.CommandLine;
using System.Globalization;
using CnnGen.Data;
using CnnGen.Samples.Cli;
using CnnGen.Samples.Images;
using CnnGen.Samples.Networks;

namespace CnnGen.Samples.Commands;

/// <summary>
/// <c>visualize</c> (seeds 001 and 003): writes a trained network's convolution filters and the feature maps every layer
/// produces for one image as PNG pictures, and the same image through Prewitt's hand-designed edge filters, with a
/// comparison of the learned first-layer filters to Prewitt's.
/// </summary>
internal static class VisualizeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(trainableOnly: true);
        var checkpoint = CommonOptions.Checkpoint("Trained checkpoint (default checkpoints/<model>.safetensors)");
        var data = CommonOptions.Data();
        var index = new Option<int>("--index", "-i") { Description = "Which test image (or image of an IDX --image file)", DefaultValueFactory = _ => 0 };
        var image = new Option<string?>("--image") { Description = "A PNG, JPEG, BMP, PGM or PPM picture or an IDX images file instead of a test image" };
        var invert = new Option<bool>("--invert") { Description = "Invert a picture's grey levels (Fashion-MNIST shows light objects on black)" };
        var output = new Option<string>("--out", "-o") { Description = "Directory for the pictures", DefaultValueFactory = _ => "visualize" };
        var command = new Command("visualize", "Write the filters and every layer's feature maps for one image as PNG pictures.")
            { model, checkpoint, data, index, image, invert, output };
        command.SetAction(parse =>
        {
            var entry = CommonOptions.ModelFor(parse, model, parse.GetValue(checkpoint), trainableOnly: true);
            if (entry is null) return 2;
            var loaded = CheckpointLoading.Load(entry, parse.GetValue(checkpoint), 1);
            if (loaded is null) return 1;
            var (network, info) = loaded.Value;
            float[] pixels;
            string what;
            try
            {
                (pixels, what) = ReadImage(network, parse.GetValue(image), parse.GetValue(index), parse.GetValue(invert), parse.GetValue(data)!);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or DatasetException)
            {
                Console.Error.WriteLine($"Cannot read the image: {e.Message}");
                return 1;
            }
            string directory = parse.GetValue(output)!;
            if (!CanWriteInto(directory)) return 1;
            Write(network, DataLoading.MeanOf(info), pixels, what, directory);
            return 0;
        });
        return command;
    }

    /// <summary>Creates the output directory (or finds it); prints why not, e.g. when the name is a file's.</summary>
    private static bool CanWriteInto(string directory)
    {
        if (File.Exists(directory))
        {
            Console.Error.WriteLine($"--out {directory} is a file; name a directory for the pictures.");
            return false;
        }
        try
        {
            Directory.CreateDirectory(directory);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Cannot create the directory {directory} for the pictures: {e.Message}");
            return false;
        }
    }

    private static (float[] Pixels, string What) ReadImage(INetwork network, string? path, int index, bool invert, string data)
    {
        if (path is not null)
            return (ImageInput.Read(path, index, network.InputChannels, network.InputHeight, network.InputWidth, invert), path);
        var test = FashionMnist.LoadTest(data);
        if (test.Channels != network.InputChannels || test.Height != network.InputHeight || test.Width != network.InputWidth)
            throw new ArgumentException($"{network.Name} takes {network.InputChannels}x{network.InputHeight}x{network.InputWidth} images, " +
                                        $"but the test images in {data} are {test.Channels}x{test.Height}x{test.Width}");
        if (index < 0 || index >= test.Count) throw new ArgumentException($"--index {index} is outside the test set's [0, {test.Count})");
        return (test.Image(index).ToArray(), $"test image {index} ({Reports.Name(FashionMnist.ClassNames, test.Labels[index])})");
    }

    /// <summary>Writes every picture into <paramref name="directory"/> and prints what each shows.</summary>
    internal static void Write(INetwork network, float mean, float[] pixels, string what, string directory)
    {
        var input = pixels.Select(p => p - mean).ToArray();
        var activations = network.Activations(input);
        var written = new List<(string Name, string Kind, string Shape, string File)>();

        string Save(string file, (byte[] Pixels, int Width, int Height) picture)
        {
            PngWriter.WriteGrey(Path.Combine(directory, file), picture.Pixels, picture.Width, picture.Height);
            return file;
        }

        int h = network.InputHeight, w = network.InputWidth;
        written.Add(("input", "Input", $"{network.InputChannels}x{h}x{w}",
            Save("00-input.png", Mosaic.Build(Mosaic.Split(pixels, network.InputChannels), h, w, network.InputChannels, Mosaic.ZoomFor(h, w), GreyScale.MinMax))));

        for (int i = 0; i < network.Layers.Count; i++)
        {
            var layer = network.Layers[i];
            string file = $"{i + 1:00}-{layer.Name}.png";
            string shape = $"{layer.OutputChannels}x{layer.OutputHeight}x{layer.OutputWidth}";
            if (layer.OutputHeight * layer.OutputWidth > 1)
            {
                var maps = Mosaic.Split(activations[i], layer.OutputChannels);
                int columns = (int)Math.Ceiling(Math.Sqrt(maps.Count));
                Save(file, Mosaic.Build(maps, layer.OutputHeight, layer.OutputWidth, columns, Mosaic.ZoomFor(layer.OutputHeight, layer.OutputWidth), GreyScale.MinMax));
            }
            else
            {
                // A flat layer: its units as one strip of cells, 20 to a row, on one grey scale.
                int units = activations[i].Length, columns = Math.Min(units, 20), rows = (units + columns - 1) / columns;
                var strip = new float[rows * columns];
                Array.Fill(strip, activations[i].Min());
                activations[i].CopyTo(strip, 0);
                Save(file, Mosaic.Build([strip], rows, columns, 1, 12, GreyScale.MinMax));
            }
            written.Add((layer.Name, layer.Kind, shape, file));
        }

        foreach (var tensor in network.Tensors.Where(t => t.Shape.Count == 4))
        {
            // A convolution's weight [filters, channels, k, k]: one row per filter, one column per input channel.
            int filters = tensor.Shape[0], channels = tensor.Shape[1], k = tensor.Shape[2];
            var weight = network.Parameters.Slice(tensor.Offset, tensor.Length).ToArray();
            var maps = Mosaic.Split(weight, filters * channels);
            string file = $"filters-{tensor.Name.Replace(".weight", "")}.png";
            Save(file, Mosaic.Build(maps, k, tensor.Shape[3], channels == 1 ? filters : channels, Math.Max(8, Mosaic.ZoomFor(k, k) / 2), GreyScale.Signed));
            written.Add((tensor.Name, "filters", tensor.ShapeText, file));
        }

        if (network.InputChannels == 1 && h == 28 && w == 28)
        {
            var edges = PrewittEdges.Create().Activations(pixels)[0];
            Save("prewitt.png", Mosaic.Build(Mosaic.Split(edges, 2), h, w, 2, Mosaic.ZoomFor(h, w), GreyScale.Signed));
            written.Add(("prewitt", "Prewitt", "2x28x28", "prewitt.png"));
        }

        Console.WriteLine($"{network.Name}, {what}:");
        var probabilities = activations[^1];
        foreach (int c in Enumerable.Range(0, probabilities.Length).OrderByDescending(c => probabilities[c]).Take(3))
            Console.WriteLine($"  {Reports.Name(FashionMnist.ClassNames, c),-12} {Reports.Percent(probabilities[c]),7}");
        Console.WriteLine($"Pictures in {directory} (feature maps: each map from its minimum, black, to its maximum, white; filters: zero is grey):");
        foreach (var (name, kind, shape, file) in written)
            Console.WriteLine($"  {file,-24} {name,-14} {kind,-10} {shape}");
        foreach (var line in CompareWithPrewitt(network)) Console.WriteLine(line);
    }

    /// <summary>Seed 001: hand-designed kernels detect edges, and a CNN learns such kernels. Each first-layer filter's
    /// central 3x3 is compared (cosine) with Prewitt's two kernels.</summary>
    internal static IEnumerable<string> CompareWithPrewitt(INetwork network)
    {
        var tensor = network.Tensors.FirstOrDefault(t => t.Shape.Count == 4 && t.Shape[1] == 1 && t.Shape[2] >= 3 && t.Shape[2] % 2 == 1);
        if (tensor is null) yield break;
        int filters = tensor.Shape[0], k = tensor.Shape[2], centre = k / 2;
        var weight = network.Parameters.Slice(tensor.Offset, tensor.Length).ToArray();
        yield return $"{tensor.Name} against Prewitt's edge filters (cosine of each filter's central 3x3; |cosine| near 1: an edge detector):";
        for (int f = 0; f < filters; f++)
        {
            var middle = new float[9];
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 3; x++)
                    middle[y * 3 + x] = weight[f * k * k + (centre - 1 + y) * k + centre - 1 + x];
            double horizontal = Cosine(middle, PrewittEdges.Horizontal), vertical = Cosine(middle, PrewittEdges.Vertical);
            string verdict = Math.Max(Math.Abs(horizontal), Math.Abs(vertical)) >= 0.6
                ? Math.Abs(horizontal) >= Math.Abs(vertical) ? "a vertical-edge detector" : "a horizontal-edge detector"
                : "not an edge detector of Prewitt's kind";
            yield return string.Create(CultureInfo.InvariantCulture, $"  filter {f}: {horizontal,6:F2} (left-right change) {vertical,6:F2} (top-bottom change): {verdict}");
        }
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
