using CnnGen.Samples.Commands;
using CnnGen.Samples.Images;
using CnnGen.Samples.Networks;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary>The <c>visualize</c> pictures: PNG files that read back, mosaics laid out as described, Prewitt's edges.</summary>
[Collection("Console")]
public class VisualizeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-visualize").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PngFilesReadBackPixelForPixel()
    {
        var pixels = Enumerable.Range(0, 7 * 5).Select(i => (byte)(i * 7)).ToArray();
        string path = Path.Combine(_dir, "a.png");
        PngWriter.WriteGrey(path, pixels, 7, 5);
        var image = ImageDecoder.Decode(File.ReadAllBytes(path), 1);
        Assert.Equal((7, 5), (image.Width, image.Height));
        Assert.Equal(pixels, image.Pixels.Select(p => (byte)MathF.Round(p * 255)).ToArray());
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        Assert.Throws<ArgumentException>(() => PngWriter.WriteGrey(path, pixels, 6, 5));
    }

    [Fact]
    public void MosaicTilesMapsWithGapsAndScalesEachMap()
    {
        // Three 2x3 maps, two per row, enlarged 2x: 2 columns of 6 pixels and 2 rows of 4, with 2-pixel gaps.
        var maps = new List<float[]> { new float[] { 0, 1, 2, 3, 4, 5 }, new float[] { -1, 0, 1, -1, 0, 1 }, new float[] { 7, 7, 7, 7, 7, 7 } };
        var (pixels, width, height) = Mosaic.Build(maps, 2, 3, 2, 2, GreyScale.MinMax);
        Assert.Equal((2 * 6 + 3 * 2, 2 * 4 + 3 * 2), (width, height));
        Assert.Equal(0, pixels[2 * width + 2]);          // map 0's minimum, top left
        Assert.Equal(255, pixels[(2 + 3) * width + 2 + 5]); // map 0's maximum, bottom right of its cell
        Assert.Equal(0, pixels[(2 + 4 + 2) * width + 2]);  // map 2 is constant: black
        var signed = Mosaic.Build(maps, 2, 3, 2, 1, GreyScale.Signed).Pixels;
        Assert.Equal(128, signed[2 * 12 + 7 + 1]); // map 1 starts at column 7 (width 12); its zero is mid grey
    }

    [Fact]
    public void PrewittFindsAVerticalEdgeOnlyInItsHorizontalChannel()
    {
        // Left half black, right half white: a vertical edge between columns 13 and 14.
        var image = new float[28 * 28];
        for (int y = 0; y < 28; y++)
            for (int x = 14; x < 28; x++) image[y * 28 + x] = 1f;
        var edges = PrewittEdges.Create().Activations(image)[0];
        Assert.Equal(3f, edges[10 * 28 + 13]);        // horizontal change across the edge: three rows of +1
        Assert.Equal(0f, edges[10 * 28 + 5]);         // flat area
        Assert.Equal(0f, edges[28 * 28 + 10 * 28 + 13]); // vertical change: none away from the border
    }

    [Fact]
    public void VisualizeWritesEveryLayerTheFiltersAndPrewitt()
    {
        var network = new LeNet5(seed: 1);
        var pixels = Enumerable.Range(0, 784).Select(i => (i % 28) > 10 && (i / 28) > 6 ? 0.8f : 0f).ToArray();
        var output = new StringWriter();
        var old = Console.Out;
        Console.SetOut(output);
        try
        {
            VisualizeCommand.Write(network, 0.25f, pixels, "a test block", _dir);
        }
        finally
        {
            Console.SetOut(old);
        }
        var files = Directory.GetFiles(_dir).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(new[] { "00-input.png", "01-conv1.png", "02-relu1.png", "03-pool1.png", "04-conv2.png", "05-relu2.png", "06-pool2.png",
            "07-dense1.png", "08-relu3.png", "09-dense2.png", "10-relu4.png", "11-dense3.png", "12-softmax1.png",
            "filters-conv1.png", "filters-conv2.png", "prewitt.png" }, files);
        // conv1: 6 maps of 28x28 enlarged 3x in 3 columns and 2 rows.
        var conv1 = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(_dir, "01-conv1.png")), 1);
        Assert.Equal((3 * 84 + 4 * 2, 2 * 84 + 3 * 2), (conv1.Width, conv1.Height));
        // conv2's filters: 16 rows of 6 input channels.
        var filters = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(_dir, "filters-conv2.png")), 1);
        Assert.Equal((6 * 45 + 7 * 2, 16 * 45 + 17 * 2), (filters.Width, filters.Height));
        string text = output.ToString();
        Assert.Contains("LeNet5, a test block:", text);
        Assert.Contains("conv1.weight against Prewitt's edge filters", text);
        Assert.Equal(6, text.Split('\n').Count(line => line.StartsWith("  filter ")));
    }
}
