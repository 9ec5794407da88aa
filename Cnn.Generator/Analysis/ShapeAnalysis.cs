using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Walks the declared layers from the input to the output: checks every argument and shape, names the layers,
/// and computes each layer's output shape, receptive field, effective stride and padding, parameters and MACs.
/// </summary>
/// <remarks>
/// Receptive field, forward form of seed 004's recurrence: <c>RF_l = RF_(l-1) + (k_l - 1) * J_(l-1)</c> with the
/// effective stride (jump) <c>J_l = J_(l-1) * s_l</c>, starting from <c>RF_0 = 1, J_0 = 1</c>. Effective padding:
/// <c>P_l = P_(l-1) + p_l * J_(l-1)</c>. A dense layer is a convolution whose kernel covers its whole input map.
/// </remarks>
internal static class ShapeAnalysis
{
    /// <summary>Largest tensor (values per image, or per weight) the generated code handles with 32-bit indices.</summary>
    public const long MaxTensorLength = 1L << 30;

    internal sealed class State
    {
        public Shape Shape;
        public bool Flat;                 // a dense layer ran: the values no longer form a map
        public string Source = "the network input";
        public string? FlattenedBy;
        public long RfH = 1, RfW = 1, Jump = 1, Padding;
        public bool Broken;               // an earlier shape error: later shapes are unknown
        public bool Weighted;             // a Conv or Dense layer ran: there is something learned to normalise
        public int Layer = -1;            // the layer whose output this is; -1 for the network input

        public State Copy() => (State)MemberwiseClone();
    }

    public static NetworkSpec Analyze(string hintName, string? @namespace, string className,
        EquatableArray<ContainingType> containingTypes, InputDeclaration input, List<LayerDeclaration> layers,
        LocationInfo? classLocation, List<DiagnosticInfo> diagnostics)
    {
        var state = new State { Shape = new Shape(input.Channels, input.Height, input.Width) };
        CheckPositive("input", "channels", input.Channels, input.Location, diagnostics, state);
        CheckPositive("input", "height", input.Height, input.Location, diagnostics, state);
        CheckPositive("input", "width", input.Width, input.Location, diagnostics, state);
        if (!state.Broken) CheckSize("input", "the input", Volume(input.Channels, input.Height, input.Width), input.Location, diagnostics, state);

        if (layers.Count == 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoLayers, classLocation, className));

        var names = AssignNames(layers, diagnostics);
        var specs = new List<LayerSpec>();
        // Each layer's output as the layers after it see it (a failed layer passes its input on); null before it is analysed.
        var outputs = new State?[layers.Count];
        var specByIndex = new LayerSpec?[layers.Count];
        bool broken = state.Broken;
        int parameterOffset = 0, stateOffset = 0;
        int softmaxIndex = -1;
        for (int i = 0; i < layers.Count; i++)
        {
            var decl = layers[i];
            string label = $"{names[i]} (layer {i + 1})";

            if (decl.Kind == LayerKind.Softmax)
            {
                if (softmaxIndex >= 0)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateSoftmax, decl.Location, label, $"{names[softmaxIndex]}, layer {softmaxIndex + 1}"));
                else if (i != layers.Count - 1)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SoftmaxNotLast, decl.Location, label, names[i + 1]));
                if (softmaxIndex < 0) softmaxIndex = i;
            }

            if (decl.Frozen && !decl.Kind.HasParameters())
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FrozenWithoutParameters, decl.Location, label, decl.Kind));

            // The input: the line above, or the layer From names.
            int inputIndex = Graph.ResolveFrom(decl, names, i, label, diagnostics);
            if (inputIndex == Graph.Unresolved) { broken = true; continue; }
            var s = (inputIndex < 0 ? state : outputs[inputIndex] ?? state).Copy();
            s.Broken = broken;

            // Only after a BatchNorm that was accepted: one rejected by CNN0023 has normalised nothing.
            if (decl.Kind == LayerKind.BatchNorm && inputIndex >= 0 && specByIndex[inputIndex] is { Kind: LayerKind.BatchNorm } previousNorm)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BatchNormTwice, decl.Location, label, previousNorm.Name));
            var spec = decl.Kind.IsJoin()
                ? Joins.Analyze(decl, names, specByIndex, outputs, names[i], label, i, s, diagnostics)
                : Step(decl, names[i], label, i, s, ref parameterOffset, diagnostics);
            broken = s.Broken;
            outputs[i] = s;
            if (spec is null) continue;
            s.Layer = i;
            spec = spec with { Frozen = decl.Frozen && decl.Kind.HasParameters(), StateOffset = stateOffset };
            if (spec.Op is BatchNormOp norm) stateOffset += 2 * norm.Channels + 1;
            specs.Add(spec);
            specByIndex[i] = spec;
        }

        if (!broken && specs.Count > 0 && specs.Count == layers.Count) Graph.WarnUnread(specs, layers, diagnostics);
        bool endsWithSoftmax = layers.Count > 0 && layers[layers.Count - 1].Kind == LayerKind.Softmax;
        Fusion.Decide(specs, endsWithSoftmax);
        TrainingKernels.Decide(specs);
        Fusion.FuseTrainingConvolutionRelus(specs);

        return new NetworkSpec(hintName, @namespace, className, containingTypes,
            new Shape(input.Channels, input.Height, input.Width), specs.ToEquatableArray(), endsWithSoftmax);
    }

    private static LayerSpec? Step(LayerDeclaration d, string name, string label, int index, State s,
        ref int parameterOffset, List<DiagnosticInfo> diagnostics)
    {
        var input = s.Shape;
        switch (d.Kind)
        {
            case LayerKind.Conv:
            case LayerKind.MaxPool:
            case LayerKind.AvgPool:
                return Windowed(d, name, label, index, s, ref parameterOffset, diagnostics);

            case LayerKind.Dense:
            {
                CheckPositive(label, "units", d.Filters, d.Location, diagnostics, s);
                if (s.Broken) return null;
                long inLength = input.Length;
                long weights = d.Filters * inLength;
                CheckSize(label, "the weight", weights, d.Location, diagnostics, s);
                if (s.Broken) return null;
                // A dense layer is a convolution whose kernel covers the whole input map.
                s.RfH = Saturate(s.RfH + (input.Height - 1) * s.Jump);
                s.RfW = Saturate(s.RfW + (input.Width - 1) * s.Jump);
                var output = new Shape(d.Filters, 1, 1);
                var spec = new LayerSpec(index, d.Kind, name, new DenseOp(d.Filters, d.Bias), s.Layer, input, output, s.Flat,
                    Clamp(s.RfH), Clamp(s.RfW), Clamp(s.Jump), Clamp(s.Padding),
                    weights + (d.Bias ? d.Filters : 0), weights, parameterOffset);
                if (!AdvanceParameters(ref parameterOffset, spec, label, d.Location, diagnostics, s)) return null;
                s.Shape = output;
                s.Flat = true;
                s.Weighted = true;
                s.FlattenedBy ??= name;
                s.Source = "output of " + name;
                return spec;
            }

            case LayerKind.GlobalAvgPool:
            {
                if (s.Broken) return null;
                if (s.Flat)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SpatialAfterDense, d.Location, label, "a global average pool", s.FlattenedBy!, s.Shape.Length));
                    s.Broken = true;
                    return null;
                }
                // A window over the whole map: the receptive field grows as a dense layer's; one output, so no stride.
                s.RfH = Saturate(s.RfH + (input.Height - 1) * s.Jump);
                s.RfW = Saturate(s.RfW + (input.Width - 1) * s.Jump);
                var output = new Shape(input.Channels, 1, 1);
                var spec = new LayerSpec(index, d.Kind, name, PlainOp.Instance, s.Layer, input, output, false,
                    Clamp(s.RfH), Clamp(s.RfW), Clamp(s.Jump), Clamp(s.Padding), 0, 0, parameterOffset);
                s.Shape = output;
                s.Source = "output of " + name;
                return spec;
            }

            case LayerKind.Maxout:
            {
                CheckPositive(label, "pieces", d.Filters, d.Location, diagnostics, s);
                if (s.Broken) return null;
                if (input.Channels % d.Filters != 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MaxoutGroups, d.Location, label, input.Channels,
                        s.Flat ? "units" : "channels", d.Filters));
                    s.Broken = true;
                    return null;
                }
                var output = new Shape(input.Channels / d.Filters, input.Height, input.Width);
                var spec = new LayerSpec(index, d.Kind, name, new MaxoutOp(d.Filters), s.Layer, input, output, s.Flat,
                    Clamp(s.RfH), Clamp(s.RfW), Clamp(s.Jump), Clamp(s.Padding), 0, 0, parameterOffset);
                s.Shape = output;
                s.Source = "output of " + name;
                return spec;
            }

            case LayerKind.BatchNorm:
            {
                if (!(d.Epsilon > 0f && !float.IsInfinity(d.Epsilon)))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BatchNormArgument, d.Location, label, "Epsilon",
                        "a finite number above 0", d.Epsilon.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
                    return null;
                }
                if (!(d.Momentum >= 0f && d.Momentum <= 1f))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BatchNormArgument, d.Location, label, "Momentum",
                        "from 0 to 1", d.Momentum.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
                    return null;
                }
                if (s.Broken) return null;
                if (!s.Weighted)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NothingToNormalize, d.Location, label, s.Source));
                    return null;
                }
                // Per channel (BatchNorm2d) over a map, per unit (BatchNorm1d) after a dense layer: a weight and a bias each.
                var spec = new LayerSpec(index, d.Kind, name, new BatchNormOp(input.Channels, d.Epsilon, d.Momentum), s.Layer, input, input, s.Flat,
                    Clamp(s.RfH), Clamp(s.RfW), Clamp(s.Jump), Clamp(s.Padding), 2L * input.Channels, input.Length, parameterOffset);
                if (!AdvanceParameters(ref parameterOffset, spec, label, d.Location, diagnostics, s)) return null;
                s.Source = "output of " + name;
                return spec;
            }

            case LayerKind.Dropout:
            {
                if (!(d.Slope >= 0f && d.Slope < 1f))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DropoutRate, d.Location, label,
                        d.Slope.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
                    return null;
                }
                if (s.Broken) return null;
                var spec = new LayerSpec(index, d.Kind, name, new DropoutOp(d.Slope), s.Layer, input, input, s.Flat,
                    Clamp(s.RfH), Clamp(s.RfW), Clamp(s.Jump), Clamp(s.Padding), 0, 0, parameterOffset);
                s.Source = "output of " + name;
                return spec;
            }

            default:
            {
                if (d.Kind is LayerKind.LeakyReLU or LayerKind.ELU && (float.IsNaN(d.Slope) || float.IsInfinity(d.Slope)))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NonFinite, d.Location, label,
                        d.Kind == LayerKind.ELU ? "alpha" : "slope", d.Slope.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    return null;
                }
                if (s.Broken) return null;
                LayerOp op = d.Kind switch
                {
                    LayerKind.LeakyReLU => new LeakyReluOp(d.Slope),
                    LayerKind.ELU => new EluOp(d.Slope),
                    _ => PlainOp.Instance,
                };
                var spec = new LayerSpec(index, d.Kind, name, op, s.Layer, input, input, s.Flat,
                    Clamp(s.RfH), Clamp(s.RfW), Clamp(s.Jump), Clamp(s.Padding), 0, 0, parameterOffset);
                s.Source = "output of " + name;
                return spec;
            }
        }
    }

    /// <summary>Convolution and pooling: a square window slid with a stride over the zero-padded input.</summary>
    private static LayerSpec? Windowed(LayerDeclaration d, string name, string label, int index, State s,
        ref int parameterOffset, List<DiagnosticInfo> diagnostics)
    {
        bool conv = d.Kind == LayerKind.Conv;
        string window = conv ? "kernel size" : "pool size";
        int errors = diagnostics.Count;
        CheckPositive(label, window, d.Kernel, d.Location, diagnostics, s);
        if (conv) CheckPositive(label, "filter count", d.Filters, d.Location, diagnostics, s);
        if (conv) CheckPositive(label, "group count", d.Groups, d.Location, diagnostics, s);
        if (conv) CheckPositive(label, "dilation", d.Dilation, d.Location, diagnostics, s);
        // A pool's default stride is its window, already checked above.
        if (conv || d.StrideGiven) CheckPositive(label, "stride", d.Stride, d.Location, diagnostics, s);
        if (d.Padding < 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NegativePadding, d.Location, label, d.Padding));
            s.Broken = true;
        }
        else if (!conv && d.Kernel > 0 && d.Padding > d.Kernel / 2)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PoolPaddingTooLarge, d.Location, label, d.Padding, d.Kernel, d.Kernel / 2));
            s.Broken = true;
        }
        if (diagnostics.Count != errors || s.Broken) { s.Broken = true; return null; }

        if (s.Flat)
        {
            string what = conv ? "a convolution" : d.Kind == LayerKind.MaxPool ? "a max pool" : "an average pool";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SpatialAfterDense, d.Location, label, what, s.FlattenedBy!, s.Shape.Length));
            s.Broken = true;
            return null;
        }

        var input = s.Shape;
        if (conv && (input.Channels % d.Groups != 0 || d.Filters % d.Groups != 0))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GroupsDoNotDivide, d.Location, label, d.Groups, input.Channels, s.Source, d.Filters));
            s.Broken = true;
            return null;
        }
        long paddedH = input.Height + 2L * d.Padding, paddedW = input.Width + 2L * d.Padding;
        // The input pixels the window spans: a dilated kernel's taps are Dilation apart.
        long span = conv ? (long)d.Dilation * (d.Kernel - 1) + 1 : d.Kernel;
        if (span > paddedH || span > paddedW)
        {
            string what = !conv ? $"{d.Kernel}x{d.Kernel} pool window"
                : d.Dilation == 1 ? $"{d.Kernel}x{d.Kernel} kernel"
                : $"{d.Kernel}x{d.Kernel} kernel with dilation {d.Dilation} (spanning {span}x{span})";
            string size = d.Padding == 0 ? $"{input.Height}x{input.Width}" : $"{input.Height}x{input.Width} ({paddedH}x{paddedW} with padding {d.Padding})";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.KernelDoesNotFit, d.Location, label, what, size, s.Source));
            s.Broken = true;
            return null;
        }

        if (conv && d.Padding >= span)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PaddingReachesKernel, d.Location, label, d.Padding, span));

        long unreadRows = (paddedH - span) % d.Stride, unreadCols = (paddedW - span) % d.Stride;
        bool ceil = !conv && d.CeilMode;
        if (!ceil && (unreadRows != 0 || unreadCols != 0))
        {
            string rows = unreadRows == 0 ? "" : unreadRows == 1 ? "1 row" : $"{unreadRows} rows";
            string cols = unreadCols == 0 ? "" : unreadCols == 1 ? "1 column" : $"{unreadCols} columns";
            string both = rows.Length > 0 && cols.Length > 0 ? rows + " and " + cols : rows + cols;
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnreadInput, d.Location, label, d.Stride, both, $"{paddedH}x{paddedW}"));
        }

        // Padding can make a side longer than an int: check the size before narrowing.
        long longH = OutputSize(input.Height, span, d.Stride, d.Padding, ceil), longW = OutputSize(input.Width, span, d.Stride, d.Padding, ceil);
        CheckSize(label, "the output", Volume(conv ? d.Filters : input.Channels, longH, longW), d.Location, diagnostics, s);
        if (s.Broken) return null;
        int outH = (int)longH, outW = (int)longW;
        var output = new Shape(conv ? d.Filters : input.Channels, outH, outW);
        long weights = conv ? (long)d.Filters * (input.Channels / d.Groups) * d.Kernel * d.Kernel : 0;
        if (conv) CheckSize(label, "the weight", weights, d.Location, diagnostics, s);
        if (s.Broken) return null;
        // The im2col buffer holds one image's patches, C*k*k values at each output position (the padded copy of the input a
        // direct convolution makes is never larger). Both factors are checked above, so the product fits a decimal.
        if (conv) CheckSize(label, "the im2col buffer", Volume(input.Channels, (long)d.Kernel * d.Kernel, (long)outH * outW), d.Location, diagnostics, s);
        if (s.Broken) return null;

        // Saturated at int.MaxValue (what LayerInfo can show), so that products of large strides cannot wrap around.
        s.RfH = Saturate(s.RfH + (span - 1) * s.Jump);
        s.RfW = Saturate(s.RfW + (span - 1) * s.Jump);
        s.Padding = Saturate(s.Padding + d.Padding * s.Jump);
        s.Jump = Saturate(s.Jump * d.Stride);
        long macs = conv ? weights * outH * outW : 0;
        LayerOp op = conv ? new ConvOp(d.Kernel, d.Filters, d.Stride, d.Padding, d.Bias, d.Groups, d.Dilation) : new PoolOp(d.Kernel, d.Stride, d.Padding, ceil);
        var spec = new LayerSpec(index, d.Kind, name, op, s.Layer, input, output, false,
            Clamp(s.RfH), Clamp(s.RfW), Clamp(s.Jump), Clamp(s.Padding), conv ? weights + (d.Bias ? d.Filters : 0) : 0, macs, parameterOffset);
        if (!AdvanceParameters(ref parameterOffset, spec, label, d.Location, diagnostics, s)) return null;
        s.Shape = output;
        s.Source = "output of " + name;
        s.Weighted |= conv;
        return spec;
    }

    /// <summary>PyTorch's output size: <c>floor((in + 2p - k) / s) + 1</c>, or with ceil mode rounded up, less one when the
    /// last window would start past the input and its left padding (<c>(out - 1) * s &gt;= in + p</c>).</summary>
    internal static long OutputSize(long input, long kernel, long stride, long padding, bool ceil)
    {
        long span = input + 2 * padding - kernel;
        if (!ceil) return span / stride + 1;
        long output = (span + stride - 1) / stride + 1;
        if ((output - 1) * stride >= input + padding) output--;
        return output;
    }

    private static bool AdvanceParameters(ref int offset, LayerSpec spec, string label, LocationInfo? location,
        List<DiagnosticInfo> diagnostics, State s)
    {
        long next = offset + spec.Parameters;
        CheckSize(label, "the network's parameter buffer", next, location, diagnostics, s);
        if (s.Broken) return false;
        offset = (int)next;
        return true;
    }

    internal static void CheckPositive(string label, string what, int value, LocationInfo? location, List<DiagnosticInfo> diagnostics, State s)
    {
        if (value > 0) return;
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NonPositive, location, label, what, value));
        s.Broken = true;
    }

    internal static void CheckSize(string label, string what, decimal length, LocationInfo? location, List<DiagnosticInfo> diagnostics, State s)
    {
        if (length <= MaxTensorLength) return;
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooLarge, location, label, what, length, MaxTensorLength));
        s.Broken = true;
    }

    /// <summary>C x H x W without 64-bit wrap-around (the product of three ints fits a decimal).</summary>
    private static decimal Volume(long channels, long height, long width) => (decimal)channels * height * width;

    internal static long Saturate(long value) => value > int.MaxValue ? int.MaxValue : value;

    internal static int Clamp(long value) => value > int.MaxValue ? int.MaxValue : (int)value;

    /// <summary>Default names are the kind and a 1-based index per kind (<c>conv1</c>, <c>pool2</c>); <c>Name</c> overrides.</summary>
    private static List<string> AssignNames(List<LayerDeclaration> layers, List<DiagnosticInfo> diagnostics)
    {
        var counters = new Dictionary<string, int>();
        var names = new List<string>();
        var taken = new HashSet<string>();
        for (int i = 0; i < layers.Count; i++)
        {
            var prefix = layers[i].Kind.DefaultNamePrefix();
            counters.TryGetValue(prefix, out int n);
            counters[prefix] = ++n;
            var given = layers[i].Name;
            var name = given ?? prefix + n;
            // A PyTorch module path (layer1.0.conv1): parts of letters, digits and '_', joined by single dots.
            if (given is not null && given.Split('.').Any(part => part.Length == 0 || !part.All(c => char.IsLetterOrDigit(c) || c == '_')))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadLayerName, layers[i].Location, $"layer {i + 1}",
                    $"name '{given}' must be non-empty and use only letters, digits and '_', with single dots between parts as in 'layer1.0.conv1' (it starts tensor names such as '{given}.weight')"));
            names.Add(name);
        }
        var ids = new Dictionary<string, string>();
        for (int i = 0; i < layers.Count; i++)
        {
            if (!taken.Add(names[i]))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadLayerName, layers[i].Location, $"{names[i]} (layer {i + 1})",
                    $"another layer is already named '{names[i]}'"));
            // Generated members take the name with '_' for '.': 'a.b' and 'a_b' would share them.
            else if (ids.TryGetValue(LayerSpec.ToId(names[i]), out var other))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadLayerName, layers[i].Location, $"{names[i]} (layer {i + 1})",
                    $"'{names[i]}' and '{other}' differ only in '.' and '_', which the generated code cannot tell apart; rename one"));
            else ids[LayerSpec.ToId(names[i])] = names[i];
        }
        return names;
    }
}
