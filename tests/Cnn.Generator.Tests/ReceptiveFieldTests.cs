using System.Text;
using CnnGen.Generator.Tests.Infrastructure;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Receptive fields and effective strides of the generated <c>Layers</c>, read from the compiled and loaded network,
/// against values computed here with seed 004's top-down recurrence <c>RF = (RF - 1) * stride + fsize</c>.
/// </summary>
public class ReceptiveFieldTests
{
    /// <summary>A layer as the test models it: kind, window (0 for dense/activation), stride, padding, output channels.</summary>
    private sealed record L(string Kind, int F = 1, int S = 1, int P = 0, int Out = 0);

    private static L Conv(int f, int filters, int s = 1, int p = 0) => new("Conv", f, s, p, filters);
    private static L Pool(int f, int s, int p = 0) => new("MaxPool", f, s, p);
    private static L ReLU() => new("ReLU");
    private static L Dense(int units) => new("Dense", Out: units);
    private static L Softmax() => new("Softmax");

    private static readonly L[] AlexNet =
    {
        Conv(11, 96, s: 4), ReLU(), Pool(3, 2),
        Conv(5, 256, p: 2), ReLU(), Pool(3, 2),
        Conv(3, 384, p: 1), ReLU(), Conv(3, 384, p: 1), ReLU(), Conv(3, 256, p: 1), ReLU(), Pool(3, 2),
        Dense(4096), ReLU(), Dense(4096), ReLU(), Dense(1000), Softmax(),
    };

    // Seed 004's ZF-5 (filter, stride, pad): conv1 7/2/3, pool1 3/2/1, conv2 5/2/2, pool2 3/2/1, conv3-5 3/1/1.
    private static readonly L[] Zf5 =
    {
        Conv(7, 96, s: 2, p: 3), ReLU(), Pool(3, 2, p: 1),
        Conv(5, 256, s: 2, p: 2), ReLU(), Pool(3, 2, p: 1),
        Conv(3, 384, p: 1), ReLU(), Conv(3, 384, p: 1), ReLU(), Conv(3, 256, p: 1), ReLU(), Pool(3, 2),
        Dense(4096), ReLU(), Dense(4096), ReLU(), Dense(1000), Softmax(),
    };

    private static L[] Vgg16()
    {
        var layers = new List<L>();
        foreach (var (convs, filters) in new[] { (2, 64), (2, 128), (3, 256), (3, 512), (3, 512) })
        {
            for (int i = 0; i < convs; i++) layers.AddRange(new[] { Conv(3, filters, p: 1), ReLU() });
            layers.Add(Pool(2, 2));
        }
        layers.AddRange(new[] { Dense(4096), ReLU(), Dense(4096), ReLU(), Dense(1000), Softmax() });
        return layers.ToArray();
    }

    private static string Declare(string name, int c, int h, int w, IEnumerable<L> layers)
    {
        var sb = new StringBuilder($"using CnnGen;\nnamespace Rf;\n[Input({c}, {h}, {w})]\n");
        foreach (var l in layers)
            sb.Append(l.Kind switch
            {
                "Conv" => $"[Conv({l.F}, {l.Out}, Stride = {l.S}, Padding = {l.P})]\n",
                "MaxPool" => $"[MaxPool({l.F}, Stride = {l.S}, Padding = {l.P})]\n",
                "Dense" => $"[Dense({l.Out})]\n",
                _ => $"[{l.Kind}]\n",
            });
        return sb.Append($"public partial class {name} {{ }}\n").ToString();
    }

    /// <summary>Each layer's window and stride as seen on its input map; a dense layer's window is its whole input map.</summary>
    private static List<(int F, int S, int OutH)> Windows(int height, IReadOnlyList<L> layers)
    {
        var result = new List<(int, int, int)>();
        int h = height;
        foreach (var l in layers)
        {
            switch (l.Kind)
            {
                case "Conv" or "MaxPool": h = (h + 2 * l.P - l.F) / l.S + 1; result.Add((l.F, l.S, h)); break;
                case "Dense": result.Add((h, 1, 1)); h = 1; break;
                default: result.Add((1, 1, h)); break;
            }
        }
        return result;
    }

    /// <summary>Seed 004: start from one unit of layer <paramref name="index"/> and walk back to the input.</summary>
    private static (int Rf, int Stride) TopDown(List<(int F, int S, int OutH)> windows, int index)
    {
        long rf = 1, stride = 1;
        for (int i = index; i >= 0; i--)
        {
            rf = (rf - 1) * windows[i].S + windows[i].F;
            stride *= windows[i].S;
        }
        return ((int)rf, (int)stride);
    }

    private static IReadOnlyList<LayerInfo> Generate(string name, int c, int h, int w, L[] layers)
    {
        var run = TestDriver.Run(Declare(name, c, h, w, layers));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputProblems);
        return LoadedNetwork.Layers(run, "Rf." + name);
    }

    private static void AssertMatchesTopDown(IReadOnlyList<LayerInfo> actual, int height, L[] layers)
    {
        var windows = Windows(height, layers);
        Assert.Equal(layers.Length, actual.Count);
        for (int i = 0; i < layers.Length; i++)
        {
            var (rf, stride) = TopDown(windows, i);
            Assert.Equal((layers[i].Kind, windows[i].OutH, rf, rf, stride),
                (actual[i].Kind, actual[i].OutputHeight, actual[i].ReceptiveField, actual[i].ReceptiveFieldWidth, actual[i].EffectiveStride));
        }
    }

    [Fact]
    public void AlexNet_EveryLayerMatchesTheTopDownRecurrence()
    {
        var layers = Generate("AlexNet", 3, 227, 227, AlexNet);
        AssertMatchesTopDown(layers, 227, AlexNet);

        // R-CNN: a pool5 unit sees 195x195 pixels of the 227x227 input, at a stride of 32.
        var pool5 = layers.Single(l => l.Name == "pool3");
        Assert.Equal((195, 32), (pool5.ReceptiveField, pool5.EffectiveStride));
        Assert.Equal((256, 6, 6), (pool5.OutputChannels, pool5.OutputHeight, pool5.OutputWidth));
        Assert.Equal(new[] { 96, 96, 96, 256, 256, 256, 384, 384, 384, 384, 256, 256, 256 },
            layers.Take(13).Select(l => l.OutputChannels));
    }

    [Fact]
    public void Zf5_EveryLayerMatchesTheTopDownRecurrence()
    {
        var layers = Generate("Zf5", 3, 225, 225, Zf5);
        AssertMatchesTopDown(layers, 225, Zf5);
        // SPP-net: a conv5 unit of ZF-5 sees 139x139 pixels, at a stride of 16.
        var conv5 = layers.Single(l => l.Name == "conv5");
        Assert.Equal((139, 16, 15), (conv5.ReceptiveField, conv5.EffectiveStride, conv5.OutputHeight));
        Assert.Equal(new[] { 7, 7, 11, 27, 27, 43, 75, 75, 107, 107, 139 }, layers.Take(11).Select(l => l.ReceptiveField));
    }

    [Fact]
    public void Zf5Sample_GeneratesTheSameLayers()
    {
        var run = TestDriver.Run(Networks.Zf5);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputProblems);
        var sample = LoadedNetwork.Layers(run, "CnnGen.Samples.Networks.Zf5");
        var declared = Generate("Zf5", 3, 225, 225, Zf5);
        Assert.Equal(declared.Select(l => (l.Name, l.ReceptiveField, l.EffectiveStride, l.OutputLength)),
            sample.Select(l => (l.Name, l.ReceptiveField, l.EffectiveStride, l.OutputLength)));
    }

    [Fact]
    public void Vgg16_EveryLayerMatchesTheTopDownRecurrence()
    {
        var spec = Vgg16();
        var layers = Generate("Vgg16", 3, 224, 224, spec);
        AssertMatchesTopDown(layers, 224, spec);
        // The last pool: 212 pixels at stride 32 (seed 004's VGG16 table).
        var pool5 = layers.Single(l => l.Name == "pool5");
        Assert.Equal((212, 32, 7), (pool5.ReceptiveField, pool5.EffectiveStride, pool5.OutputHeight));
    }

    [Fact]
    public void NonSquareDense_HasARectangularReceptiveField()
    {
        var layers = Generate("Wide", 1, 6, 10, new[] { Conv(3, 2, s: 1), Dense(4) });
        // conv1 sees 3x3; the dense layer covers conv1's whole 4x8 output: 3 + 3 = 6 rows, 3 + 7 = 10 columns.
        Assert.Equal((6, 10), (layers[1].ReceptiveField, layers[1].ReceptiveFieldWidth));
    }

    [Fact]
    public void Seed001_ConvolutionAgainstDenseParametersAndFlops()
    {
        // Seed 001: one 3x3 single-channel filter over a 5x5 image (3x3 output) has K*K = 9 weights and
        // 2*K*K*L_out*L_out = 162 FLOPs; a dense layer connecting the 25 pixels to 25 outputs has 625 weights and 1,250 FLOPs.
        var conv = Generate("OneFilter", 1, 5, 5, new[] { Conv(3, 1) });
        Assert.Equal((10L, 81L), (conv[0].Parameters, conv[0].Macs)); // 9 weights and a bias; FLOPs = 2 x MACs = 162
        var dense = Generate("FullyConnected", 1, 5, 5, new[] { Dense(25) });
        Assert.Equal((650L, 625L), (dense[0].Parameters, dense[0].Macs)); // 625 weights and 25 biases; 1,250 FLOPs
        // Seed 001 again: a dense layer is a convolution whose kernel covers the whole image.
        Assert.Equal((5, 5), (dense[0].ReceptiveField, dense[0].ReceptiveFieldWidth));
    }

    [Fact]
    public void ParameterAndMacCounts()
    {
        var lenet = LoadedNetwork.Load(TestDriver.Run(Networks.LeNet5), "CnnGen.Samples.Networks.LeNet5");
        Assert.Equal(61_706, LoadedNetwork.Constant<int>(lenet, "ParameterCount"));
        Assert.Equal(416_520L, LoadedNetwork.Constant<long>(lenet, "ForwardMacs"));

        var vggRun = TestDriver.Run(Networks.Vgg16);
        var vgg = LoadedNetwork.Load(vggRun, "CnnGen.Samples.Networks.Vgg16");
        Assert.Equal(138_357_544, LoadedNetwork.Constant<int>(vgg, "ParameterCount"));
        var vggLayers = LoadedNetwork.Layers(vggRun, "CnnGen.Samples.Networks.Vgg16");
        Assert.Equal(138_357_544L, vggLayers.Sum(l => l.Parameters));
        // conv1_1: 64 filters of 3x3x3 over 224x224 positions.
        Assert.Equal(64L * 27 * 224 * 224, vggLayers[0].Macs);
    }
}
