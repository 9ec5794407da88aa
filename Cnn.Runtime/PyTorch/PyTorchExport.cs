using System.Globalization;
using System.Text;

namespace CnnGen.PyTorch;

/// <summary>
/// Writes a generated network as a self-contained PyTorch module (<c>torch.nn.Module</c>, Python source) with the same
/// layers, shapes and semantics, whose <c>state_dict</c> keys and shapes are the network's tensor names, so a CnnGen
/// checkpoint loads into it strictly and a checkpoint it saves loads into CnnGen. <c>forward</c> returns the logits (a
/// final softmax is left to the loss, as in PyTorch; <c>predict</c> applies it). With <see cref="TrainingScript"/> it lets
/// the heavy training run on PyTorch's distributed engine (<c>torchrun</c>, DistributedDataParallel).
/// </summary>
public static class PyTorchExport
{
    /// <summary>The Python source of the module for <paramref name="network"/>.</summary>
    /// <exception cref="NotSupportedException">A layer kind or name that has no PyTorch form here (named in the message).</exception>
    public static string ToModule(INetwork network)
    {
        var layers = network.Layers;
        var init = new StringBuilder();
        var forward = new StringBuilder();
        // What each value is: channels and rank (4 for [N, C, H, W], 2 for [N, units]) and its Python variable.
        var values = new Dictionary<string, (int Channels, int Length, int Rank, string Variable)>(StringComparer.Ordinal)
        {
            ["input"] = (network.InputChannels, network.InputLength, 4, "x"),
        };
        string previous = "input";
        bool endsWithSoftmax = false;
        foreach (var l in layers)
        {
            string inputName = l.Input ?? previous;
            if (!values.TryGetValue(inputName, out var input))
                throw new NotSupportedException($"{network.Name}: layer {l.Name} reads {inputName}, which is not an earlier layer.");
            string name = VariableName(network, l.Name);
            string v = "h_" + name, x = input.Variable;
            bool bias = network.Tensors.Any(t => t.Name == l.Name + ".bias");
            int rank = input.Rank;
            switch (l.Kind)
            {
                case "Conv":
                    init.AppendLine(Invariant($"        {Register(name, l.Name)}nn.Conv2d({input.Channels}, {l.OutputChannels}, {l.Kernel}, stride={l.Stride}, padding={l.Padding}, dilation={l.Dilation}, groups={l.Groups}, bias={Py(bias)})"));
                    forward.AppendLine($"        {v} = {Call(name, l.Name)}({x})");
                    break;
                case "Dense":
                    init.AppendLine(Invariant($"        {Register(name, l.Name)}nn.Linear({input.Length}, {l.OutputChannels}, bias={Py(bias)})"));
                    forward.AppendLine($"        {v} = {Call(name, l.Name)}({(rank == 4 ? $"torch.flatten({x}, 1)" : x)})");
                    rank = 2;
                    break;
                case "MaxPool":
                    init.AppendLine(Invariant($"        {Register(name, l.Name)}nn.MaxPool2d({l.Kernel}, stride={l.Stride}, padding={l.Padding}, ceil_mode={Py(l.CeilMode)})"));
                    forward.AppendLine($"        {v} = {Call(name, l.Name)}({x})");
                    break;
                case "AvgPool":
                    init.AppendLine(Invariant($"        {Register(name, l.Name)}nn.AvgPool2d({l.Kernel}, stride={l.Stride}, padding={l.Padding}, ceil_mode={Py(l.CeilMode)}, count_include_pad=True)"));
                    forward.AppendLine($"        {v} = {Call(name, l.Name)}({x})");
                    break;
                case "GlobalAvgPool":
                    init.AppendLine($"        {Register(name, l.Name)}nn.AdaptiveAvgPool2d(1)");
                    forward.AppendLine($"        {v} = {Call(name, l.Name)}({x})");
                    break;
                case "ReLU":
                    forward.AppendLine($"        {v} = F.relu({x})");
                    break;
                case "ReLU6":
                    forward.AppendLine($"        {v} = F.relu6({x})");
                    break;
                case "LeakyReLU":
                    forward.AppendLine($"        {v} = F.leaky_relu({x}, {Float(l.Slope)})");
                    break;
                case "ELU":
                    forward.AppendLine($"        {v} = F.elu({x}, {Float(l.Alpha)})");
                    break;
                case "Sigmoid":
                    forward.AppendLine($"        {v} = torch.sigmoid({x})");
                    break;
                case "Tanh":
                    forward.AppendLine($"        {v} = torch.tanh({x})");
                    break;
                case "Dropout":
                    init.AppendLine($"        {Register(name, l.Name)}nn.Dropout({Float(l.DropoutRate)})");
                    forward.AppendLine($"        {v} = {Call(name, l.Name)}({x})");
                    break;
                case "Maxout":
                    // The maximum over consecutive groups of `pieces` channels (or units).
                    forward.AppendLine(rank == 4
                        ? Invariant($"        {v} = {x}.view({x}.shape[0], {l.OutputChannels}, {l.Pieces}, {x}.shape[2], {x}.shape[3]).amax(2)")
                        : Invariant($"        {v} = {x}.view({x}.shape[0], {l.OutputChannels}, {l.Pieces}).amax(2)"));
                    break;
                case "BatchNorm":
                    init.AppendLine(Invariant($"        {Register(name, l.Name)}nn.BatchNorm{(rank == 4 ? 2 : 1)}d({input.Channels}, eps={Float(l.Epsilon)}, momentum={Float(l.Momentum)})"));
                    forward.AppendLine($"        {v} = {Call(name, l.Name)}({x})");
                    break;
                case "Add":
                    forward.AppendLine($"        {v} = {string.Join(" + ", new[] { x }.Concat(l.Sources.Select(s => values[s].Variable)))}");
                    break;
                case "Concat":
                    forward.AppendLine($"        {v} = torch.cat([{string.Join(", ", new[] { x }.Concat(l.Sources.Select(s => values[s].Variable)))}], 1)");
                    break;
                case "Softmax":
                    endsWithSoftmax = true;
                    v = rank == 4 ? $"torch.flatten({x}, 1)" : x; // logits; the loss (or predict) applies the softmax
                    forward.AppendLine($"        # {l.Name}: softmax, applied by the loss in training and by predict()");
                    rank = 2;
                    break;
                default:
                    throw new NotSupportedException($"{network.Name}: layer {l.Name} is a {l.Kind}, which the PyTorch export does not write yet.");
            }
            values[l.Name] = (l.OutputChannels, l.OutputLength, rank, v);
            previous = l.Name;
        }
        var last = values[previous];
        string result = last.Rank == 4 ? $"torch.flatten({last.Variable}, 1)" : last.Variable;

        var s = new StringBuilder();
        s.AppendLine($"\"\"\"{network.Name}, written by CnnGen: the same layers, shapes and tensor names (state_dict keys) as the C# class.");
        s.AppendLine();
        s.AppendLine($"Input: [batch, {network.InputChannels}, {network.InputHeight}, {network.InputWidth}]; forward() returns [batch, {network.OutputLength}] logits.");
        s.AppendLine($"Architecture fingerprint: {network.Fingerprint}");
        s.AppendLine("\"\"\"");
        s.AppendLine("import torch");
        s.AppendLine("from torch import nn");
        s.AppendLine("import torch.nn.functional as F");
        s.AppendLine();
        s.AppendLine();
        s.AppendLine($"class {Identifier(network, network.Name)}(nn.Module):");
        s.AppendLine($"    input_shape = ({network.InputChannels}, {network.InputHeight}, {network.InputWidth})");
        s.AppendLine($"    num_outputs = {network.OutputLength}");
        s.AppendLine($"    ends_with_softmax = {Py(endsWithSoftmax)}");
        s.AppendLine($"    fingerprint = \"{network.Fingerprint}\"");
        s.AppendLine();
        bool dotted = layers.Any(l => l.Name.Contains('.'));
        s.AppendLine("    def __init__(self):");
        s.AppendLine("        super().__init__()");
        if (dotted) s.AppendLine("        self._layers = {}  # modules by dotted path (torchvision's layer1.0.conv1), registered below");
        s.Append(init);
        if (dotted)
        {
            s.AppendLine("        for path, module in self._layers.items():");
            s.AppendLine("            self._put(path, module)");
        }
        else if (init.Length == 0) s.AppendLine("        pass");
        if (dotted)
        {
            s.AppendLine();
            s.AppendLine("    def _put(self, path, module):");
            s.AppendLine("        \"\"\"Registers module at a dotted path, creating the containers on the way, so state_dict keys are the path's.\"\"\"");
            s.AppendLine("        parent = self");
            s.AppendLine("        *containers, last = path.split(\".\")");
            s.AppendLine("        for part in containers:");
            s.AppendLine("            if part not in parent._modules:");
            s.AppendLine("                parent.add_module(part, nn.Module())");
            s.AppendLine("            parent = parent._modules[part]");
            s.AppendLine("        parent.add_module(last, module)");
        }
        s.AppendLine();
        s.AppendLine("    def forward(self, x):");
        s.Append(forward);
        s.AppendLine($"        return {result}");
        s.AppendLine();
        s.AppendLine("    def predict(self, x):");
        s.AppendLine("        \"\"\"What the C# network's Forward returns: class probabilities if it ends in softmax, else logits.\"\"\"");
        s.AppendLine("        logits = self.forward(x)");
        s.AppendLine("        return F.softmax(logits, dim=1) if self.ends_with_softmax else logits");
        s.AppendLine();
        s.AppendLine();
        s.AppendLine($"Network = {Identifier(network, network.Name)}");
        return s.ToString();
    }

    /// <summary>The generic DistributedDataParallel training script (<c>torchrun</c>) that trains any exported module.</summary>
    public static string TrainingScript()
    {
        using var stream = typeof(PyTorchExport).Assembly.GetManifestResourceStream("CnnGen.PyTorch.train_ddp.py")
            ?? throw new InvalidOperationException("The training script is missing from the CnnGen runtime assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Writes <c>NAME.py</c> (the module) and <c>train_ddp.py</c> (the script) into <paramref name="directory"/>;
    /// each file is complete or absent. Returns the module's path.</summary>
    public static string Save(INetwork network, string directory)
    {
        string module = ToModule(network), script = TrainingScript();
        string modulePath = Path.Combine(directory, network.Name + ".py");
        Checkpoints.AtomicFile.Write(modulePath, stream => stream.Write(Encoding.UTF8.GetBytes(module)));
        Checkpoints.AtomicFile.Write(Path.Combine(directory, "train_ddp.py"), stream => stream.Write(Encoding.UTF8.GetBytes(script)));
        return modulePath;
    }

    private static readonly HashSet<string> PythonKeywords = new(StringComparer.Ordinal)
    {
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
        "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
        "pass", "raise", "return", "try", "while", "with", "yield",
    };

    /// <summary>Where a layer's module is registered: an attribute for a plain name, the path table for a dotted one.</summary>
    private static string Register(string variable, string name) => name.Contains('.') ? $"self._layers[\"{name}\"] = " : $"self.{variable} = ";

    private static string Call(string variable, string name) => name.Contains('.') ? $"self._layers[\"{name}\"]" : $"self.{variable}";

    /// <summary>A Python name for the layer: the layer's name, dots as underscores (names that differ only there are
    /// refused at compile time, CNN0017); each dotted part must be letters, digits and underscores.</summary>
    private static string VariableName(INetwork network, string name)
    {
        if (!name.Contains('.')) return Identifier(network, name);
        foreach (var part in name.Split('.'))
            if (part.Length == 0 || !part.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                throw new NotSupportedException($"{network.Name}: '{name}' is not a module path the PyTorch export can write.");
        return name.Replace('.', '_');
    }

    private static string Identifier(INetwork network, string name)
    {
        bool valid = name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !PythonKeywords.Contains(name);
        return valid ? name
            : throw new NotSupportedException($"{network.Name}: '{name}' is not a Python identifier, which the PyTorch export needs for a module name.");
    }

    private static string Py(bool value) => value ? "True" : "False";

    private static string Float(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
