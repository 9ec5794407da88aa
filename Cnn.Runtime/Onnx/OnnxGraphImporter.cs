using System.Globalization;
using CnnGen.Checkpoints;

namespace CnnGen.Onnx;

/// <summary>
/// Turns an ONNX graph into CnnGen layers, node by node in topological order: constants and shape plumbing are folded,
/// <c>Identity</c>, <c>Flatten</c> and a flattening <c>Reshape</c> pass their input on, every other node becomes one
/// layer (a <c>MatMul</c> and the <c>Add</c> of its bias become one dense layer). A node that CnnGen cannot declare is
/// an error naming it, its op type and its index.
/// </summary>
internal sealed class OnnxGraphImporter
{
    /// <summary>A tensor computed by the network: the layer that writes it (null: the network input) and its shape per
    /// image; <paramref name="Flat"/> when it is [batch, C*H*W] rather than [batch, C, H, W].</summary>
    private sealed record DataValue(string? Layer, int C, int H, int W, bool Flat)
    {
        public int Length => C * H * W;
        public string ShapeText => Flat ? $"{Length}" : $"{C}x{H}x{W}";
    }

    private readonly OnnxModel _model;
    private readonly Dictionary<string, OnnxTensor> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DataValue> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _reads = new(StringComparer.Ordinal);
    private readonly List<ImportedLayer> _layers = [];
    private readonly List<string?> _layerInputs = [];
    private readonly Dictionary<string, List<NamedTensor>> _tensors = new(StringComparer.Ordinal);
    private readonly HashSet<string> _biasFreeMatMuls = new(StringComparer.Ordinal);
    private readonly ModulePaths _names = new();

    private OnnxGraphImporter(OnnxModel model) => _model = model;

    public static ImportedNetwork Import(OnnxModel model, string source)
    {
        var importer = new OnnxGraphImporter(model);
        return importer.Run(source);
    }

    private ImportedNetwork Run(string source)
    {
        var initializerNames = _model.Initializers.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = _model.Inputs.Where(i => !initializerNames.Contains(i.Name)).ToList();
        if (inputs.Count != 1)
            throw new OnnxImportException($"the graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))}); CnnGen networks take one image tensor");
        if (_model.Outputs.Count != 1)
            throw new OnnxImportException($"the graph has {_model.Outputs.Count} outputs ({string.Join(", ", _model.Outputs.Select(o => o.Name))}); CnnGen networks give one");
        var input = inputs[0];
        var (c, h, w) = InputShape(input);
        string output = _model.Outputs[0].Name;

        var order = OnnxGraphOrder.Sort(_model, input.Name, output);
        foreach (var t in _model.Initializers) _constants[t.Name] = t;
        _values[input.Name] = new DataValue(null, c, h, w, false);
        foreach (var node in order)
            foreach (var i in node.Inputs)
                _reads[i] = _reads.GetValueOrDefault(i) + 1;
        _reads[output] = _reads.GetValueOrDefault(output) + 1;

        foreach (var node in order) Import(node);

        if (!_values.TryGetValue(output, out var result))
            throw new OnnxImportException($"the graph output '{output}' is a constant; there is no network to import");
        if (_layers.Count == 0 || result.Layer is null)
            throw new OnnxImportException($"the graph output '{output}' is its input; there is no layer to import");
        if (result.Layer != _layers[^1].Name)
            throw new OnnxImportException($"the graph output '{output}' is not the last layer's output");
        var softmax = _layers.FindIndex(l => l.Kind == "Softmax");
        if (softmax >= 0 && softmax != _layers.Count - 1)
            throw new OnnxImportException($"Softmax layer {_layers[softmax].Name} is not the last layer; CnnGen allows softmax only at the end");

        var layers = new List<ImportedLayer>(_layers.Count);
        for (int k = 0; k < _layers.Count; k++)
        {
            string? reads = _layerInputs[k];
            if (k == 0 && reads is null) { layers.Add(_layers[k]); continue; }
            if (reads is null)
                throw new OnnxImportException($"layer {_layers[k].Name} reads the network input, which only the first layer can read in a CnnGen declaration (the first is {_layers[0].Name})");
            layers.Add(k > 0 && reads == _layers[k - 1].Name ? _layers[k] : _layers[k] with { From = reads });
        }
        var tensors = layers.SelectMany(l => _tensors.GetValueOrDefault(l.Name) ?? []).ToList();
        return new ImportedNetwork(c, h, w, layers, tensors, source);
    }

    private static (int C, int H, int W) InputShape(OnnxValueInfo input)
    {
        if (input.ElementType != OnnxTensor.FloatType)
            throw new OnnxImportException($"the graph input '{input.Name}' has ONNX element type {input.ElementType}; CnnGen networks take float32 images");
        var shape = input.Shape ?? throw new OnnxImportException($"the graph input '{input.Name}' has no shape; CnnGen needs a fixed C x H x W");
        if (shape.Count != 4)
            throw new OnnxImportException($"the graph input '{input.Name}' has shape [{string.Join(", ", shape)}]; CnnGen needs [batch, C, H, W]");
        string[] what = ["channel count", "height", "width"];
        var dims = new int[3];
        for (int k = 0; k < 3; k++)
        {
            var d = shape[k + 1];
            if (d.Value is not long v)
                throw new OnnxImportException($"the graph input '{input.Name}' has a dynamic {what[k]} ([{string.Join(", ", shape)}]); CnnGen needs a fixed C x H x W (a dynamic batch is fine)");
            if (v < 1 || v > 65536)
                throw new OnnxImportException($"the graph input '{input.Name}' has {what[k]} {v}; it must be 1 to 65536");
            dims[k] = (int)v;
        }
        return (dims[0], dims[1], dims[2]);
    }

    private void Import(OnnxNode node)
    {
        if (node.Domain is not ("" or "ai.onnx"))
            throw Unsupported(node, $"its domain '{node.Domain}' is not ONNX's own");
        var data = node.Inputs.Where(i => i.Length != 0 && _values.ContainsKey(i)).ToList();
        if (node.OpType == "Shape" && node.Inputs.Count == 1 && _values.TryGetValue(node.Inputs[0], out var shaped))
        {
            _constants[Output(node)] = ConstantFolding.Shape(Output(node), shaped.Flat ? [shaped.Length] : [shaped.C, shaped.H, shaped.W]);
            return;
        }
        if (data.Count == 0)
        {
            if (!ConstantFolding.CanFold(node.OpType)) throw Unsupported(node, "CnnGen has no layer for it");
            var folded = ConstantFolding.Fold(node, node.Inputs.Select(i => i.Length == 0 ? null : _constants[i]).ToList(), _model.Opset);
            _constants[Output(node)] = folded;
            return;
        }
        switch (node.OpType)
        {
            case "Identity": Alias(node, In(node, 0)); break;
            case "Pad": Pad(node); break;
            case "Flatten": Flatten(node); break;
            case "Reshape": Reshape(node); break;
            case "Conv": Conv(node); break;
            case "Gemm": Gemm(node); break;
            case "MatMul": MatMul(node); break;
            case "BatchNormalization": BatchNorm(node); break;
            case "Relu": Elementwise(node, "ReLU"); break;
            case "Sigmoid": Elementwise(node, "Sigmoid"); break;
            case "Tanh": Elementwise(node, "Tanh"); break;
            case "LeakyRelu": Elementwise(node, "LeakyReLU", FloatAttribute(node, "alpha", 0.01f)); break;
            case "Elu": Elementwise(node, "ELU", FloatAttribute(node, "alpha", 1f)); break;
            case "Clip": Clip(node); break;
            case "MaxPool": Pool(node, "MaxPool"); break;
            case "AveragePool": Pool(node, "AvgPool"); break;
            case "GlobalAveragePool": GlobalPool(node); break;
            case "Dropout": Dropout(node); break;
            case "Softmax": Softmax(node); break;
            case "Add" when data.Count == 1: AddBias(node); break;
            case "Add" or "Sum": Join(node, "Add"); break;
            case "Concat": Join(node, "Concat"); break;
            default: throw Unsupported(node, "CnnGen has no layer for it");
        }
    }

    // ---- values and layers ----

    private static string Output(OnnxNode node) =>
        node.Outputs.Count > 0 && node.Outputs[0].Length != 0 ? node.Outputs[0] : throw new OnnxImportException($"not a valid ONNX file: {node.Label} has no output");

    private DataValue In(OnnxNode node, int index)
    {
        if (index >= node.Inputs.Count || node.Inputs[index].Length == 0) throw Unsupported(node, $"input {index} is missing");
        if (_values.TryGetValue(node.Inputs[index], out var value)) return value;
        throw Unsupported(node, $"input {index} ('{node.Inputs[index]}') is a constant where CnnGen needs the output of a layer");
    }

    private OnnxTensor? Constant(OnnxNode node, int index, string what)
    {
        if (index >= node.Inputs.Count || node.Inputs[index].Length == 0) return null;
        if (_constants.TryGetValue(node.Inputs[index], out var t)) return t;
        throw Unsupported(node, $"its {what} ('{node.Inputs[index]}') is computed by the network; CnnGen needs it as a constant");
    }

    private float[] FloatConstant(OnnxNode node, int index, string what, int count)
    {
        var t = Constant(node, index, what) ?? throw Unsupported(node, $"its {what} is missing");
        var values = t.Floats ?? throw Unsupported(node, $"its {what} ('{t.Name}') is not float32");
        if (values.Length != count) throw Unsupported(node, $"its {what} ('{t.Name}') has shape {t.ShapeText}; {count} values are needed");
        if (values.Any(v => !float.IsFinite(v))) throw Unsupported(node, $"its {what} ('{t.Name}') holds NaN or infinite values");
        return values;
    }

    /// <summary>The extra outputs (a pool's indices, a dropout's mask, BatchNorm's training statistics) must be unread.</summary>
    private void OnlyFirstOutputRead(OnnxNode node)
    {
        for (int k = 1; k < node.Outputs.Count; k++)
            if (node.Outputs[k].Length != 0 && _reads.ContainsKey(node.Outputs[k]))
                throw Unsupported(node, $"its output {k} ('{node.Outputs[k]}') is read, which CnnGen's layer does not give");
    }

    private void Alias(OnnxNode node, DataValue value) => _values[Output(node)] = value;

    private ImportedLayer AddLayer(OnnxNode node, ImportedLayer layer, DataValue input, params NamedTensor[] tensors)
    {
        OnlyFirstOutputRead(node);
        _layers.Add(layer);
        _layerInputs.Add(input.Layer);
        _tensors[layer.Name] = [.. tensors];
        _values[Output(node)] = new DataValue(layer.Name, layer.OutputChannels, layer.OutputHeight, layer.OutputWidth, input.Flat || layer.Kind is "Dense" or "Softmax");
        return layer;
    }

    private static OnnxImportException Unsupported(OnnxNode node, string problem) =>
        new($"{node.Label} is not supported: {problem}");

    private static NamedTensor Tensor(string name, int[] shape, float[] values) => new(name, shape, values);

    // ---- attributes ----

    private static long IntAttribute(OnnxNode node, string name, long fallback) => node.Attributes.GetValueOrDefault(name)?.Int ?? fallback;

    private static float FloatAttribute(OnnxNode node, string name, float fallback)
    {
        float value = node.Attributes.GetValueOrDefault(name)?.Float ?? fallback;
        if (!float.IsFinite(value)) throw Unsupported(node, $"its {name} is {value}, not a finite number");
        return value;
    }

    /// <summary>A 2-D attribute whose two values must agree (CnnGen's windows, strides and paddings are square).</summary>
    private static int Square(OnnxNode node, string name, int fallback, int count = 2)
    {
        var values = node.Attributes.GetValueOrDefault(name)?.Ints;
        if (values is null) return fallback;
        if (values.Count != count) throw Unsupported(node, $"{name} [{string.Join(", ", values)}] is not for a 2-D map");
        if (values.Distinct().Count() != 1)
            throw Unsupported(node, $"{name} [{string.Join(", ", values)}] differs between sides or axes; CnnGen's are the same on every side");
        if (values[0] < 0 || values[0] > 65536) throw Unsupported(node, $"{name} [{string.Join(", ", values)}] is out of range");
        return (int)values[0];
    }

    private static void NoAutoPad(OnnxNode node)
    {
        string autoPad = node.Attributes.GetValueOrDefault("auto_pad")?.Text ?? "NOTSET";
        if (autoPad is not ("NOTSET" or "VALID"))
            throw Unsupported(node, $"auto_pad {autoPad}; export with explicit pads");
    }

    private static void NoDilation(OnnxNode node)
    {
        if (Square(node, "dilations", 1) != 1)
            throw Unsupported(node, $"dilations [{string.Join(", ", node.Attributes["dilations"].Ints!)}]: CnnGen's pooling windows are not dilated");
    }

    private static void RequireMap(OnnxNode node, DataValue input)
    {
        if (input.Flat && (input.H != 1 || input.W != 1))
            throw Unsupported(node, $"it reads a flattened value ({input.ShapeText}); CnnGen needs a C x H x W map here");
    }

    // ---- layers ----

    private void Conv(OnnxNode node)
    {
        var x = In(node, 0);
        if (x.Flat) throw Unsupported(node, "it reads a flattened value; a convolution needs a map");
        var weight = Constant(node, 1, "weight") ?? throw Unsupported(node, "its weight is missing");
        var w = weight.Dims;
        if (w.Count != 4 || weight.Floats is null) throw Unsupported(node, $"its weight '{weight.Name}' has shape {weight.ShapeText}; a 2-D convolution's is [filters, channels / groups, k, k]");
        if (w[2] != w[3]) throw Unsupported(node, $"its kernel is {w[2]}x{w[3]}; CnnGen's are square");
        NoAutoPad(node);
        int kernel = (int)w[2], filters = (int)w[0];
        int dilation = Square(node, "dilations", 1);
        if (dilation < 1) throw Unsupported(node, $"dilation {dilation}");
        int span = dilation * (kernel - 1) + 1; // the input pixels a dilated kernel reaches across
        if (Square(node, "kernel_shape", kernel) != kernel) throw Unsupported(node, "kernel_shape disagrees with its weight");
        int stride = Square(node, "strides", 1), padding = Square(node, "pads", 0, 4);
        long groups = IntAttribute(node, "group", 1);
        if (groups < 1 || x.C % groups != 0 || filters % groups != 0 || w[1] * groups != x.C)
            throw Unsupported(node, $"weight {weight.ShapeText} with {groups} group(s) does not fit its {x.C}-channel input");
        if (stride < 1) throw Unsupported(node, $"stride {stride}");
        if (span > x.H + 2 * padding || span > x.W + 2 * padding)
            throw Unsupported(node, $"its {kernel}x{kernel} kernel (spanning {span}x{span}) does not fit its {x.H}x{x.W} input padded by {padding}");
        var bias = Constant(node, 2, "bias");
        string name = _names.For("Conv", node, node.Inputs[1]);
        var layer = new ImportedLayer("Conv", name)
        {
            Kernel = kernel, Filters = filters, Stride = stride, Padding = padding, Groups = (int)groups, Dilation = dilation,
            Bias = bias is not null,
            OutputChannels = filters,
            OutputHeight = (x.H + 2 * padding - span) / stride + 1,
            OutputWidth = (x.W + 2 * padding - span) / stride + 1,
            LeavesInputUnread = LeavesUnread(x, span, stride, padding),
        };
        var tensors = new List<NamedTensor> { Tensor(name + ".weight", [filters, (int)w[1], kernel, kernel], FloatConstant(node, 1, "weight", weight.Floats.Length)) };
        if (bias is not null) tensors.Add(Tensor(name + ".bias", [filters], FloatConstant(node, 2, "bias", filters)));
        AddLayer(node, layer, x, [.. tensors]);
    }

    private void Gemm(OnnxNode node)
    {
        var x = In(node, 0);
        if (IntAttribute(node, "transA", 0) != 0) throw Unsupported(node, "transA = 1");
        if (FloatAttribute(node, "alpha", 1f) != 1f || FloatAttribute(node, "beta", 1f) != 1f)
            throw Unsupported(node, "alpha and beta other than 1");
        var weight = Constant(node, 1, "weight") ?? throw Unsupported(node, "its weight is missing");
        bool transposed = IntAttribute(node, "transB", 0) != 0;
        Dense(node, x, weight, transposed, Constant(node, 2, "bias") is null ? null : 2);
    }

    private void MatMul(OnnxNode node)
    {
        var x = In(node, 0);
        var weight = Constant(node, 1, "weight") ?? throw Unsupported(node, "its weight is missing");
        var layer = Dense(node, x, weight, transposed: false, biasInput: null);
        _biasFreeMatMuls.Add(layer.Name);
    }

    /// <summary>A dense layer from a [units, in] (transposed) or [in, units] weight; the bias from input <paramref name="biasInput"/>.</summary>
    private ImportedLayer Dense(OnnxNode node, DataValue x, OnnxTensor weight, bool transposed, int? biasInput)
    {
        if (!x.Flat) throw Unsupported(node, $"it multiplies a {x.ShapeText} map that was not flattened first (Flatten or Reshape)");
        if (weight.Dims.Count != 2 || weight.Floats is null) throw Unsupported(node, $"its weight '{weight.Name}' has shape {weight.ShapeText}, not a float32 matrix");
        long inputs = transposed ? weight.Dims[1] : weight.Dims[0], units = transposed ? weight.Dims[0] : weight.Dims[1];
        if (inputs != x.Length) throw Unsupported(node, $"its weight '{weight.Name}' {weight.ShapeText} expects {inputs} inputs but the layer reads {x.Length}");
        var values = FloatConstant(node, 1, "weight", weight.Floats.Length);
        if (!transposed) values = Transpose(values, (int)inputs, (int)units);
        string name = _names.For("Dense", node, transposed ? node.Inputs[1] : null);
        var tensors = new List<NamedTensor> { Tensor(name + ".weight", [(int)units, (int)inputs], values) };
        if (biasInput is int b)
        {
            var bias = Constant(node, b, "bias")!;
            if (bias.Count != units) throw Unsupported(node, $"its bias '{bias.Name}' {bias.ShapeText} is not one value per unit ({units}); broadcasting is not supported");
            tensors.Add(Tensor(name + ".bias", [(int)units], FloatConstant(node, b, "bias", (int)units)));
        }
        var layer = new ImportedLayer("Dense", name) { Filters = (int)units, Bias = biasInput is not null, OutputChannels = (int)units };
        return AddLayer(node, layer, x, [.. tensors]);
    }

    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                result[c * rows + r] = values[r * columns + c];
        return result;
    }

    /// <summary>The <c>Add</c> of a constant after a <c>MatMul</c>: that dense layer's bias.</summary>
    private void AddBias(OnnxNode node)
    {
        int dataIndex = _values.ContainsKey(node.Inputs[0]) ? 0 : 1;
        var x = In(node, dataIndex);
        int layerIndex = x.Layer is null ? -1 : _layers.FindIndex(l => l.Name == x.Layer);
        if (layerIndex < 0 || !_biasFreeMatMuls.Contains(x.Layer!) || _reads.GetValueOrDefault(node.Inputs[dataIndex]) != 1)
            throw Unsupported(node, "it adds a constant, which CnnGen declares only as the bias of a MatMul it follows");
        var dense = _layers[layerIndex];
        var values = FloatConstant(node, 1 - dataIndex, "bias", dense.Filters);
        _layers[layerIndex] = dense with { Bias = true };
        _tensors[dense.Name].Add(Tensor(dense.Name + ".bias", [dense.Filters], values));
        _biasFreeMatMuls.Remove(dense.Name);
        Alias(node, x);
    }

    private void BatchNorm(OnnxNode node)
    {
        var x = In(node, 0);
        RequireMap(node, x);
        if (IntAttribute(node, "training_mode", 0) != 0) throw Unsupported(node, "training_mode = 1; export in evaluation mode");
        if (!_layers.Any(l => l.Kind is "Conv" or "Dense"))
            throw Unsupported(node, "no convolution or dense layer comes before it, which CnnGen's BatchNorm needs");
        float epsilon = FloatAttribute(node, "epsilon", 1e-5f), momentum = FloatAttribute(node, "momentum", 0.9f);
        if (epsilon <= 0) throw Unsupported(node, $"epsilon {epsilon}");
        if (momentum is < 0 or > 1) throw Unsupported(node, $"momentum {momentum}");
        string name = _names.For("BatchNorm", node, node.Inputs.Count > 1 ? node.Inputs[1] : null);
        int c = x.Flat ? x.Length : x.C;
        var layer = new ImportedLayer("BatchNorm", name)
        {
            // ONNX's momentum weighs the running value; PyTorch's and CnnGen's weigh the batch.
            Epsilon = epsilon, Momentum = (float)Math.Round(1.0 - momentum, 6),
            OutputChannels = x.C, OutputHeight = x.H, OutputWidth = x.W,
        };
        AddLayer(node, layer, x,
            Tensor(name + ".weight", [c], FloatConstant(node, 1, "scale", c)),
            Tensor(name + ".bias", [c], FloatConstant(node, 2, "bias", c)),
            Tensor(name + ".running_mean", [c], FloatConstant(node, 3, "mean", c)),
            Tensor(name + ".running_var", [c], FloatConstant(node, 4, "variance", c)),
            Tensor(name + ".num_batches_tracked", [], [0f]));
    }

    private void Elementwise(OnnxNode node, string kind, float argument = 0f)
    {
        var x = In(node, 0);
        var layer = new ImportedLayer(kind, _names.For(kind, node, null))
        {
            Argument = argument, OutputChannels = x.C, OutputHeight = x.H, OutputWidth = x.W,
        };
        AddLayer(node, layer, x);
    }

    /// <summary>Clip(0, 6) is ReLU6 and Clip(0, no maximum) ReLU; bounds from attributes (opset &lt; 11) or constant inputs.</summary>
    private void Clip(OnnxNode node)
    {
        float min, max;
        if (_model.Opset < 11)
        {
            min = node.Attributes.GetValueOrDefault("min")?.Float ?? float.MinValue;
            max = node.Attributes.GetValueOrDefault("max")?.Float ?? float.MaxValue;
        }
        else
        {
            min = Bound(node, 1, "minimum") ?? float.MinValue;
            max = Bound(node, 2, "maximum") ?? float.MaxValue;
        }
        if (min == 0f && max == 6f) Elementwise(node, "ReLU6");
        else if (min == 0f && max >= float.MaxValue) Elementwise(node, "ReLU");
        else throw Unsupported(node, $"Clip({Text(min)}, {Text(max)}); CnnGen has Clip(0, 6) as ReLU6 and Clip(0, none) as ReLU");
    }

    private float? Bound(OnnxNode node, int index, string what)
    {
        var t = Constant(node, index, what);
        if (t is null) return null;
        var values = ConstantFolding.Floats(node, t);
        if (values.Length != 1) throw Unsupported(node, $"its {what} has shape {t.ShapeText}, not one value");
        return values[0];
    }

    private static string Text(float value) =>
        value <= float.MinValue ? "none" : value >= float.MaxValue ? "none" : value.ToString("R", CultureInfo.InvariantCulture);

    private void Pool(OnnxNode node, string kind)
    {
        var x = In(node, 0);
        if (x.Flat) throw Unsupported(node, "it reads a flattened value; pooling needs a map");
        NoAutoPad(node);
        NoDilation(node);
        var shape = node.Attributes.GetValueOrDefault("kernel_shape")?.Ints;
        if (shape is null) throw Unsupported(node, "kernel_shape is missing");
        int size = Square(node, "kernel_shape", 0), stride = Square(node, "strides", 1), padding = Square(node, "pads", 0, 4);
        bool ceil = IntAttribute(node, "ceil_mode", 0) != 0;
        if (size < 1 || stride < 1) throw Unsupported(node, $"window {size}, stride {stride}");
        if (IntAttribute(node, "storage_order", 0) != 0) throw Unsupported(node, "storage_order = 1");
        if (2 * padding > size) throw Unsupported(node, $"padding {padding} is more than half its {size}x{size} window, which CnnGen (and PyTorch) refuse");
        if (kind == "AvgPool" && padding > 0 && IntAttribute(node, "count_include_pad", 0) == 0)
            throw Unsupported(node, "count_include_pad = 0 with padding: CnnGen's average pooling counts the padded zeros (PyTorch's count_include_pad=True)");
        if (size > x.H + 2 * padding || size > x.W + 2 * padding)
            throw Unsupported(node, $"its {size}x{size} window does not fit its {x.H}x{x.W} input padded by {padding}");
        var layer = new ImportedLayer(kind, _names.For(kind, node, null))
        {
            Kernel = size, Stride = stride, Padding = padding, CeilMode = ceil,
            OutputChannels = x.C, OutputHeight = PoolOutput(x.H, size, stride, padding, ceil), OutputWidth = PoolOutput(x.W, size, stride, padding, ceil),
            LeavesInputUnread = !ceil && LeavesUnread(x, size, stride, padding),
        };
        AddLayer(node, layer, x);
    }

    /// <summary>Whether windows stepping by <paramref name="stride"/> stop short of the padded input's last row or column.</summary>
    private static bool LeavesUnread(DataValue x, int window, int stride, int padding) =>
        (x.H + 2 * padding - window) % stride != 0 || (x.W + 2 * padding - window) % stride != 0;

    /// <summary>PyTorch's pooled size: with ceil_mode a last window must start inside the input or its left padding.</summary>
    private static int PoolOutput(int size, int window, int stride, int padding, bool ceil)
    {
        int span = size + 2 * padding - window;
        int output = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceil && (output - 1) * stride >= size + padding) output--;
        return output;
    }

    private void GlobalPool(OnnxNode node)
    {
        var x = In(node, 0);
        if (x.Flat) throw Unsupported(node, "it reads a flattened value; pooling needs a map");
        AddLayer(node, new ImportedLayer("GlobalAvgPool", _names.For("GlobalAvgPool", node, null)) { OutputChannels = x.C }, x);
    }

    private void Dropout(OnnxNode node)
    {
        var x = In(node, 0);
        float rate = _model.Opset < 12 ? FloatAttribute(node, "ratio", 0.5f) : Bound(node, 1, "ratio") ?? 0.5f;
        if (_model.Opset >= 12 && Constant(node, 2, "training_mode") is { } training && ConstantFolding.Longs(node, training).Any(v => v != 0))
            throw Unsupported(node, "training_mode is true; export in evaluation mode");
        if (rate is < 0 or >= 1 || !float.IsFinite(rate)) throw Unsupported(node, $"ratio {rate} is outside [0, 1)");
        var layer = new ImportedLayer("Dropout", _names.For("Dropout", node, null))
        {
            Argument = rate, OutputChannels = x.C, OutputHeight = x.H, OutputWidth = x.W,
        };
        AddLayer(node, layer, x);
    }

    private void Softmax(OnnxNode node)
    {
        var x = In(node, 0);
        long axis = IntAttribute(node, "axis", _model.Opset >= 13 ? -1 : 1);
        bool overAll = x.Flat ? axis is 1 or -1 : axis == 1 && (_model.Opset < 13 || (x.H == 1 && x.W == 1));
        if (!overAll) throw Unsupported(node, $"softmax over axis {axis} of a {x.ShapeText} value; CnnGen's is over all of an image's values");
        AddLayer(node, new ImportedLayer("Softmax", _names.For("Softmax", node, null)) { OutputChannels = x.Length }, x);
    }

    private void Flatten(OnnxNode node)
    {
        var x = In(node, 0);
        long axis = IntAttribute(node, "axis", 1);
        if (axis != 1) throw Unsupported(node, $"Flatten axis {axis}; CnnGen flattens each image (axis 1)");
        Alias(node, x with { Flat = true });
    }

    /// <summary>A Pad that pads nothing passes its input on: PyTorch 1.13 writes one in front of every AveragePool with
    /// count_include_pad, even when the pool has no padding (DenseNet's transitions). Any real padding is refused.</summary>
    private void Pad(OnnxNode node)
    {
        var x = In(node, 0);
        string mode = node.Attributes.GetValueOrDefault("mode")?.Text ?? "constant";
        long[] pads = Constant(node, 1, "pads") is { } t ? ConstantFolding.Longs(node, t)
            : node.Attributes.GetValueOrDefault("pads")?.Ints?.ToArray() ?? [];
        if (pads.Any(p => p != 0))
            throw Unsupported(node, $"{mode} padding by [{string.Join(", ", pads)}]; CnnGen pads only inside a convolution or pool");
        Alias(node, x);
    }

    /// <summary>A Reshape to [batch, C*H*W] flattens each image; any other shape has no CnnGen form.</summary>
    private void Reshape(OnnxNode node)
    {
        var x = In(node, 0);
        var target = Constant(node, 1, "shape") ?? throw Unsupported(node, "its shape is missing");
        var shape = ConstantFolding.Longs(node, target);
        bool batchFirst = shape.Length == 2 && shape[0] is 0 or -1 or ConstantFolding.Batch;
        bool flat = batchFirst && (shape[1] == x.Length || (shape[1] == -1 && shape[0] != -1));
        if (!flat)
            throw Unsupported(node, $"Reshape to [{string.Join(", ", shape.Select(d => d == ConstantFolding.Batch ? "batch" : d.ToString(CultureInfo.InvariantCulture)))}] of a {x.ShapeText} value; CnnGen reshapes only to [batch, {x.Length}] (flattening each image)");
        Alias(node, x with { Flat = true });
    }

    /// <summary>An Add or Sum of layer outputs (the input is the operand that is the line above, if any), or a Concat
    /// along the channels (the first operand is the input, as in torch.cat([x, a, ...], 1)).</summary>
    private void Join(OnnxNode node, string kind)
    {
        var operands = new List<DataValue>();
        for (int k = 0; k < node.Inputs.Count; k++)
        {
            if (node.Inputs[k].Length == 0) continue;
            if (!_values.ContainsKey(node.Inputs[k]))
                throw Unsupported(node, $"input {k} ('{node.Inputs[k]}') is a constant; CnnGen joins layer outputs only");
            operands.Add(In(node, k));
        }
        // A join of one value is that value (torch.cat of a one-element list: DenseNet's first layer of each block).
        if (operands.Count == 1 && node.Inputs.Count(i => i.Length != 0) == 1)
        {
            Alias(node, operands[0]);
            return;
        }
        if (operands.Count < 2) throw Unsupported(node, "it joins fewer than two values");
        if (operands.Skip(1).Any(o => o.Layer is null) || (kind == "Add" && operands.Count(o => o.Layer is null) > 1))
            throw Unsupported(node, "it joins the network input as a later operand; CnnGen joins earlier layers' outputs");
        var first = operands[0];
        if (kind == "Add")
        {
            if (operands.Any(o => o.C != first.C || o.H != first.H || o.W != first.W || o.Flat != first.Flat))
                throw Unsupported(node, $"it adds values of different shapes ({string.Join(", ", operands.Select(o => o.ShapeText))})");
            int previous = operands.FindIndex(o => _layers.Count > 0 && o.Layer == _layers[^1].Name);
            if (operands.Any(o => o.Layer is null)) previous = operands.FindIndex(o => o.Layer is null);
            if (previous > 0) (operands[0], operands[previous]) = (operands[previous], operands[0]);
        }
        else
        {
            long axis = IntAttribute(node, "axis", 1);
            int rank = first.Flat ? 2 : 4;
            if (axis < 0) axis += rank;
            if (axis != 1) throw Unsupported(node, $"Concat along axis {axis}; CnnGen joins along the channels (axis 1)");
            foreach (var o in operands) RequireMap(node, o);
            if (operands.Any(o => o.H != first.H || o.W != first.W))
                throw Unsupported(node, $"it joins maps of different sizes ({string.Join(", ", operands.Select(o => o.ShapeText))})");
        }
        var layer = new ImportedLayer(kind, _names.For(kind, node, null))
        {
            Sources = operands.Skip(1).Select(o => o.Layer!).ToList(),
            OutputChannels = kind == "Add" ? first.C : operands.Sum(o => o.C),
            OutputHeight = first.H,
            OutputWidth = first.W,
        };
        AddLayer(node, layer, operands[0]);
    }
}
