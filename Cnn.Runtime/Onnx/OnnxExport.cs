using System.Globalization;

namespace CnnGen.Onnx;

/// <summary>
/// Writes a generated network with its weights as an ONNX model (opset 17, dynamic batch, evaluation mode): the graph
/// input <c>input</c> <c>[batch, C, H, W]</c>, the output <c>probabilities</c> (a network ending in softmax) or
/// <c>logits</c> <c>[batch, classes]</c>, one node per layer named after it, the parameters under their PyTorch names,
/// BatchNorm as <c>BatchNormalization</c> with the running statistics. ONNX Runtime computes what <c>Forward</c> computes.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX model of <paramref name="network"/> as bytes.</summary>
    /// <param name="network">The network, with its parameters and BatchNorm statistics.</param>
    /// <param name="inputMean">The mean pixel the network was trained with subtracted (a checkpoint's
    /// <c>input_mean</c>); when not 0 the model subtracts it itself, so it takes the images as they are.</param>
    /// <exception cref="NotSupportedException">A layer kind that has no ONNX form here (named in the message).</exception>
    public static byte[] ToBytes(INetwork network, float inputMean = 0f)
    {
        if (!float.IsFinite(inputMean)) throw new ArgumentOutOfRangeException(nameof(inputMean), inputMean, "The input mean must be a finite number.");
        var g = new OnnxGraph(network.Name);
        g.Input("input", null, network.InputChannels, network.InputHeight, network.InputWidth);
        string first = "input";
        if (inputMean != 0f)
        {
            g.Initializer("input_mean", [], [inputMean]);
            g.Node("Sub", "subtract_mean", ["input", "input_mean"], ["input_centred"]);
            first = "input_centred";
            g.Metadata("cnngen.input_mean", inputMean.ToString("R", CultureInfo.InvariantCulture));
        }
        g.Metadata("cnngen.network", network.Name);
        g.Metadata("cnngen.fingerprint", network.Fingerprint);

        var tensors = network.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var parameters = network.Parameters;
        foreach (var t in network.Tensors)
            g.Initializer(t.Name, Dims(t), parameters.Slice(t.Offset, t.Length));
        var state = network.State;
        foreach (var t in network.StateTensors)
            if (!t.Name.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
                g.Initializer(t.Name, Dims(t), state.Slice(t.Offset, t.Length));

        var layers = network.Layers;
        string outputName = layers.Count > 0 && layers[^1].Kind == "Softmax" ? "probabilities" : "logits";
        // Rank of each value: 4 for [N, C, H, W], 2 for [N, units].
        var rank = new Dictionary<string, int>(StringComparer.Ordinal) { [first] = 4 };
        string previous = first;
        foreach (var layer in layers)
        {
            string input = layer.Input switch { null => previous, "input" => first, var earlier => earlier };
            if (!rank.TryGetValue(input, out int inRank))
                throw new NotSupportedException($"{network.Name}: layer {layer.Name} reads {input}, which is not an earlier layer.");
            rank[layer.Name] = AddLayer(g, network.Name, layer, input, inRank, tensors);
            previous = layer.Name;
        }
        // The network's outputs are flat per image.
        if (rank[previous] == 4) g.Node("Flatten", "output", [previous], [outputName], OnnxAttribute.Of("axis", 1L));
        else g.Node("Identity", "output", [previous], [outputName]);
        g.Output(outputName, null, network.OutputLength);
        return g.ToBytes();
    }

    /// <summary>Writes the model to <paramref name="path"/> atomically (a complete file or none).</summary>
    public static void Save(INetwork network, string path, float inputMean = 0f)
    {
        var bytes = ToBytes(network, inputMean);
        Checkpoints.AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    private static long[] Dims(TensorInfo t) => t.Shape.Select(d => (long)d).ToArray();

    private static int AddLayer(OnnxGraph g, string network, LayerInfo l, string input, int inRank, Dictionary<string, TensorInfo> tensors)
    {
        string name = l.Name, output = name;
        string Bias() => tensors.ContainsKey(name + ".bias") ? name + ".bias" : "";
        switch (l.Kind)
        {
            case "Conv":
            {
                var inputs = new List<string> { input, name + ".weight" };
                if (Bias().Length != 0) inputs.Add(Bias());
                g.Node("Conv", name, inputs, [output],
                    OnnxAttribute.Of("kernel_shape", l.Kernel, l.Kernel),
                    OnnxAttribute.Of("strides", l.Stride, l.Stride),
                    OnnxAttribute.Of("pads", l.Padding, l.Padding, l.Padding, l.Padding),
                    OnnxAttribute.Of("dilations", l.Dilation, l.Dilation),
                    OnnxAttribute.Of("group", (long)l.Groups));
                return 4;
            }
            case "Dense":
            {
                string flat = Flat(g, name, input, inRank);
                var inputs = new List<string> { flat, name + ".weight" };
                if (Bias().Length != 0) inputs.Add(Bias());
                g.Node("Gemm", name, inputs, [output], OnnxAttribute.Of("transB", 1L));
                return 2;
            }
            case "MaxPool":
            case "AvgPool":
            {
                var attributes = new List<OnnxAttribute>
                {
                    OnnxAttribute.Of("kernel_shape", l.Kernel, l.Kernel),
                    OnnxAttribute.Of("strides", l.Stride, l.Stride),
                    OnnxAttribute.Of("pads", l.Padding, l.Padding, l.Padding, l.Padding),
                    OnnxAttribute.Of("ceil_mode", l.CeilMode ? 1L : 0L),
                };
                if (l.Kind == "AvgPool") attributes.Add(OnnxAttribute.Of("count_include_pad", 1L));
                g.Node(l.Kind == "MaxPool" ? "MaxPool" : "AveragePool", name, [input], [output], attributes.ToArray());
                return 4;
            }
            case "GlobalAvgPool":
                g.Node("GlobalAveragePool", name, [input], [output]);
                return 4;
            case "ReLU":
                g.Node("Relu", name, [input], [output]);
                return inRank;
            case "ReLU6":
                g.Initializer(name + ".min", [], [0f]);
                g.Initializer(name + ".max", [], [6f]);
                g.Node("Clip", name, [input, name + ".min", name + ".max"], [output]);
                return inRank;
            case "LeakyReLU":
                g.Node("LeakyRelu", name, [input], [output], OnnxAttribute.Of("alpha", l.Slope));
                return inRank;
            case "ELU":
                g.Node("Elu", name, [input], [output], OnnxAttribute.Of("alpha", l.Alpha));
                return inRank;
            case "Sigmoid":
                g.Node("Sigmoid", name, [input], [output]);
                return inRank;
            case "Tanh":
                g.Node("Tanh", name, [input], [output]);
                return inRank;
            case "Dropout":
                g.Node("Identity", name, [input], [output]); // evaluation mode
                return inRank;
            case "Softmax":
                g.Node("Softmax", name, [Flat(g, name, input, inRank)], [output], OnnxAttribute.Of("axis", 1L));
                return 2;
            case "Maxout":
            {
                // Consecutive groups of Pieces channels (or units): reshape to [N, C/p, p, ...] and take the maximum.
                long groups = l.OutputChannels;
                long[] shape = inRank == 4 ? [0, groups, l.Pieces, l.OutputHeight, l.OutputWidth] : [0, groups, l.Pieces];
                g.Int64Initializer(name + ".shape", shape);
                g.Node("Reshape", name + ".reshape", [input, name + ".shape"], [name + ".grouped"]);
                g.Node("ReduceMax", name, [name + ".grouped"], [output], OnnxAttribute.Of("axes", new long[] { 2 }), OnnxAttribute.Of("keepdims", 0L));
                return inRank;
            }
            case "BatchNorm":
                g.Node("BatchNormalization", name,
                    [input, name + ".weight", name + ".bias", name + ".running_mean", name + ".running_var"], [output],
                    OnnxAttribute.Of("epsilon", l.Epsilon), OnnxAttribute.Of("momentum", 1f - l.Momentum));
                return inRank;
            case "Add":
            {
                // A sum of the input and every source, in order: Sum is one node for any count.
                var inputs = new List<string> { input };
                inputs.AddRange(l.Sources);
                g.Node(inputs.Count == 2 ? "Add" : "Sum", name, inputs, [output]);
                return inRank;
            }
            case "Concat":
            {
                var inputs = new List<string> { input };
                inputs.AddRange(l.Sources);
                g.Node("Concat", name, inputs, [output], OnnxAttribute.Of("axis", 1L));
                return inRank;
            }
            default:
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                    $"{network}: layer {name} is a {l.Kind}, which the ONNX export does not write yet."));
        }
    }

    /// <summary>The input flattened to [N, C*H*W] (PyTorch's Flatten: C, H, W order), or the input itself if flat.</summary>
    private static string Flat(OnnxGraph g, string layer, string input, int inRank)
    {
        if (inRank == 2) return input;
        string flat = layer + ".flatten";
        g.Node("Flatten", flat, [input], [flat], OnnxAttribute.Of("axis", 1L));
        return flat;
    }
}
