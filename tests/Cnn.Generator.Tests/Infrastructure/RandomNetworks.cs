using System.Text;
using System.Text.RegularExpressions;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>Random attribute stacks, sound or not, including malformed syntax, for the robustness test.</summary>
internal sealed class RandomNetworks(int seed)
{
    /// <summary>A file every batch adds: the target of the non-constant argument case.</summary>
    public const string HolderFile = "namespace Fuzz;\npublic static class Holder { public static int Units = 3; public static string Source = \"conv1\"; }\n";

    private readonly Random _random = new(seed);
    // The class bodies draw from their own stream, so the attribute stacks stay those of earlier versions of this seed.
    private readonly Random _bodies = new(seed + 1);

    /// <summary>Members a network class may declare: some clash with the generated code (CNN0032), some are other overloads
    /// or names that must compile beside it.</summary>
    private static readonly string[] Members =
    {
        "public int Parameters => 3;",
        "public void Freeze(string layer) { }",
        "public int Threads;",
        "private sealed class Workspace { }",
        "public NAME(int size) { }",
        "public string Summary() => \"\";",
        "public int Predict(float[] image) => 0;",
        "public NAME() : this(5) { }",
        "public static int Freeze(int layer) => layer;",
        "private readonly int _mine = 1; public int Mine => _mine;",
    };

    private static readonly string[] Huge = { "0", "-1", "-7", "int.MaxValue", "int.MinValue", "1 << 30", "65536", "100000", "46341" };
    private static readonly string[] Names =
        { "\"a\"", "\"x\"", "\"conv1\"", "\"dense1\"", "\"a b\"", "\"\"", "\"é1\"", "\"_\"", "\"1x\"", "null", "\"q\\\"x\"", "\"conv1.weight\"", "\"Forward\"" };

    /// <summary>Malformed [Add] and [Concat] attributes ({0} is the kind); declared before <see cref="Broken"/>, which reads them.</summary>
    private static readonly string[] BrokenJoins =
    {
        "[{0}]", "[{0}()]", "[{0}(1)]", "[{0}(\"a\", \"b\")]", "[{0}(Holder.Source)]", "[{0}(source: null)]", "[{0}(Source = \"conv1\")]",
        "[{0}(nameof(Holder))]", "[{0}(\"conv\" + \"1\")]", "[{0}('c')]",
    };

    private static readonly string[] Broken = new[]
    {
        "[Conv(]", "[Conv(\"a\", 1)]", "[Dense(1.5)]", "[Conv(3)]", "[MaxPool]", "[Dense(1, 2)]", "[ReLU(1)]",
        "[LeakyReLU(\"x\")]", "[Conv(3, 4, Stride = \"2\")]", "[Input(1, 2)]", "[Conv(3, 4, Padding = int.MaxValue + 1)]",
        "[Dense(Holder.Units)]", "[Conv(3, 4, Foo = 1)]", "[Conv(3, 4, Kernel = 5)]", "[Dense(units: 3)]", "[Conv(filters: 2, kernel: 3)]",
        "[Softmax(Name = 3)]", "[Conv(3, 4,)]", "[Input(1, 2, 3, 4)]", "[", "[Tanh", "[Dense(2)", "[Conv(3, 4, Stride = null)]",
        "[LeakyReLU(float.NaN)]", "[ELU(float.NegativeInfinity)]", "[LeakyReLU(1e30f)]", "[LeakyReLU(-0.5f)]", "[ELU(0)]",
        "[Dropout(1f)]", "[Dropout(float.NaN)]", "[Dropout]", "[Dropout(0.5f)]", "[Dropout(0f)]", "[Maxout(0)]", "[Maxout(2)]", "[Maxout(3)]",
        "[BatchNorm(4)]", "[BatchNorm(Frozen = 1)]", "[BatchNorm(Name = 3)]", "[BatchNorm(Momentum = 0.5f)]", "[BatchNorm(Frozen = false)]",
        "[BatchNorm()]", "[BatchNorm(Frozen = true, Frozen = false)]", "[BatchNorm(Frozen = Holder.Units > 2)]", "[BatchNorm][BatchNorm]",
    }.Concat(BrokenJoins.Select(f => string.Format(System.Globalization.CultureInfo.InvariantCulture, f, "Add")))
     .Concat(BrokenJoins.Select(f => string.Format(System.Globalization.CultureInfo.InvariantCulture, f, "Concat"))).ToArray();

    /// <summary>Names a shortcut may wrongly give: unknown, differently cased, dotted, or the input's.</summary>
    private static readonly string[] WrongSources = { "nope", "Conv1", "RELU1", "conv1.weight", "input", "conv99", "relu 1", "add0", "concat0", "Concat1" };

    /// <summary>The names the layers written so far in the current file get (default or given), in order, as the
    /// generator assigns them; attributes it skips as unreadable make this an approximation, which is fine here.</summary>
    private readonly List<string> _names = new();
    private readonly Dictionary<string, int> _counts = new();
    private static readonly Regex Attribute = new(@"\[(\w+)(\((?:[^()\]]|\([^()]*\))*\))?", RegexOptions.Compiled);
    private static readonly Regex GivenName = new(@"Name = ""(\w+)""", RegexOptions.Compiled);

    private static string? Prefix(string kind) => kind switch
    {
        "Conv" => "conv", "MaxPool" or "AvgPool" or "GlobalAvgPool" => "pool", "ReLU6" => "relu6_", "Dense" => "dense", "ReLU" => "relu", "LeakyReLU" => "leakyrelu",
        "ELU" => "elu", "Sigmoid" => "sigmoid", "Tanh" => "tanh", "Softmax" => "softmax", "Maxout" => "maxout",
        "Dropout" => "dropout", "BatchNorm" => "bn", "Add" => "add", "Concat" => "concat", _ => null,
    };

    private void Track(string layers)
    {
        foreach (Match m in Attribute.Matches(layers))
        {
            if (Prefix(m.Groups[1].Value) is not { } prefix) continue;
            _counts.TryGetValue(prefix, out int n);
            _counts[prefix] = ++n;
            var given = GivenName.Match(m.Groups[2].Value);
            _names.Add(given.Success ? given.Groups[1].Value : prefix + n);
        }
    }

    private string NextDefaultName(string prefix) => prefix + ((_counts.TryGetValue(prefix, out int n) ? n : 0) + 1);
    private static readonly string[] Activations = { "ReLU", "Sigmoid", "Tanh", "Softmax", "LeakyReLU", "ELU", "ReLU6" };

    private int Small() => _random.Next(1, 8);

    private string Int() => _random.Next(100) < 88 ? Small().ToString() : Huge[_random.Next(Huge.Length)];

    private string Dim() => _random.Next(100) < 93 ? _random.Next(1, 33).ToString() : Huge[_random.Next(Huge.Length)];

    private string Input() => $"[Input({Dim()}, {Dim()}, {Dim()})]";

    private string NamedArgs(bool spatial)
    {
        var args = new List<string>();
        if (spatial && _random.Next(3) == 0) args.Add("Stride = " + Int());
        if (spatial && _random.Next(3) == 0) args.Add("Padding = " + (_random.Next(3) == 0 ? Int() : _random.Next(0, 3).ToString()));
        if (_random.Next(6) == 0) args.Add("Name = " + Names[_random.Next(Names.Length)]);
        if (_random.Next(8) == 0) args.Add("Frozen = " + (_random.Next(4) == 0 ? "false" : "true"));
        if (_random.Next(7) == 0) args.Add("From = " + From());
        if (_random.Next(2) == 0) args.Reverse();
        return args.Count == 0 ? "" : string.Join(", ", args);
    }

    /// <summary>What a <c>From</c> names: mostly an earlier layer (a branch), sometimes a wrong, later, empty or null name.</summary>
    private string From()
    {
        int pick = _random.Next(100);
        if (pick < 70 && _names.Count > 0) return "\"" + _names[_random.Next(_names.Count)] + "\"";
        if (pick < 80) return "\"" + WrongSources[_random.Next(WrongSources.Length)] + "\"";
        if (pick < 90) return "\"" + NextDefaultName(new[] { "conv", "relu", "dense", "pool" }[_random.Next(4)]) + "\"";
        return _random.Next(2) == 0 ? "\"\"" : "null";
    }

    private static string Join(string positional, string named) =>
        positional.Length == 0 ? named : named.Length == 0 ? positional : positional + ", " + named;

    private string Layer()
    {
        int join = _random.Next(100);
        if (join < 12) return Shortcut("Add");
        if (join < 23) return Shortcut("Concat");
        if (join < 35 && _names.Count > 0) return _random.Next(2) == 0 ? Inception() : ProjectionBlock();
        int pick = _random.Next(100);
        if (pick < 4) return Broken[_random.Next(Broken.Length)];
        if (pick < 30) return Conv();
        if (pick < 40) return $"[{(_random.Next(2) == 0 ? "MaxPool" : "AvgPool")}({Join(Join(Int(), NamedArgs(true)), _random.Next(4) == 0 ? "CeilMode = true" : "")})]";
        if (pick < 42) return _random.Next(2) == 0 ? "[GlobalAvgPool]" : $"[GlobalAvgPool({NamedArgs(false)})]";
        if (pick < 55) return Dense();
        if (pick < 64)
        {
            // Alone (anywhere, so often with nothing to normalise) or right after a Conv or Dense layer (folded).
            return _random.Next(3) == 0 ? BatchNorm() : (_random.Next(2) == 0 ? Conv() : Dense()) + " " + BatchNorm();
        }
        string activation = Activations[_random.Next(Activations.Length)];
        string named = NamedArgs(false);
        string slope = activation is "LeakyReLU" or "ELU" && _random.Next(2) == 0 ? (_random.Next(10) / 10f).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "f" : "";
        string all = Join(slope, named);
        return all.Length == 0 && _random.Next(2) == 0 ? $"[{activation}]" : $"[{activation}({all})]";
    }

    private string Conv() => $"[Conv({Join(Join(Join($"{(_random.Next(4) == 0 ? Int() : _random.Next(1, 4).ToString())}, {Int()}", NamedArgs(true)), NoBias()), Groups())})]";

    /// <summary>Sometimes <c>Groups</c>: mostly small (dividing the channels or not, CNN0030), sometimes 0 or huge.</summary>
    private string Groups() => _random.Next(5) == 0 ? "Groups = " + (_random.Next(4) == 0 ? Int() : _random.Next(1, 5).ToString()) : "";

    private string Dense() => $"[Dense({Join(Join(Int(), NamedArgs(false)), NoBias())})]";

    /// <summary>Sometimes <c>Bias = false</c> (or a needless <c>Bias = true</c>).</summary>
    private string NoBias() => _random.Next(5) switch { 0 => "Bias = false", 1 when _random.Next(3) == 0 => "Bias = true", _ => "" };

    /// <summary>
    /// <c>[Add("source")]</c> or <c>[Concat("source")]</c>: mostly an earlier layer's name (the one just before, y = 2x or
    /// [x, x], or any), sometimes a whole residual block that keeps the shape (for a Concat, a dense block that keeps the
    /// height and width but may change the channels); sometimes a later, its own, an unknown or an empty name, or null.
    /// </summary>
    private string Shortcut(string kind)
    {
        string named = _random.Next(5) == 0 ? NamedArgs(false) : "";
        string Add(string source) => $"[{kind}({Join(source, named)})]";
        string Quoted(string name) => "\"" + name + "\"";
        int pick = _random.Next(100);
        if (pick < 35 && _names.Count > 0) return Add(Quoted(_names[_random.Next(_names.Count)]));
        if (pick < 42 && _names.Count > 0)
        {
            // Several sources, sometimes one of them wrong or null.
            var sources = Enumerable.Range(0, _random.Next(2, 5)).Select(_ => Quoted(_names[_random.Next(_names.Count)])).ToList();
            if (_random.Next(5) == 0) sources[_random.Next(sources.Count)] = _random.Next(2) == 0 ? "null" : Quoted(WrongSources[_random.Next(WrongSources.Length)]);
            return Add(string.Join(", ", sources));
        }
        if (pick < 55 && _names.Count > 0)
        {
            // Something that keeps the shape, then the layer before it: always the same shape. For a Concat, sometimes a
            // pool or a dense layer instead, which changes the height and width (CNN0027) unless they were 1.
            string keep = kind == "Concat" && _random.Next(2) == 0
                ? (_random.Next(2) == 0 ? "[MaxPool(2)] " : $"[Dense({Small()})] ")
                : _random.Next(3) switch { 0 => "", 1 => "[Tanh] ", _ => "[Dropout(0.5f)] " };
            return keep + Add(Quoted(_names[^1]));
        }
        if (pick < 70)
        {
            // A residual block: a 1x1 convolution sets the channels, a padded 3x3 keeps them and the size. A dense block's
            // 3x3 may give other channels, and sometimes has stride 2, which changes the size (CNN0027) unless it was 1x1.
            int filters = _random.Next(1, 5);
            int grown = kind == "Add" ? filters : _random.Next(1, 5);
            string stride = kind == "Concat" && _random.Next(3) == 0 ? ", Stride = 2" : "";
            string stem = NextDefaultName("conv");
            string norm = _random.Next(2) == 0 ? " [BatchNorm]" : "";
            return $"[Conv(1, {filters})]{norm} [ReLU] [Conv(3, {grown}, Padding = 1{stride})]{norm} {Add(Quoted(stem))}";
        }
        if (pick < 80) return Add(Quoted(_random.Next(3) switch
        {
            0 => WrongSources[_random.Next(WrongSources.Length)],
            1 => NextDefaultName(kind.ToLowerInvariant()), // its own name
            _ => NextDefaultName(new[] { "conv", "relu", "dense", "pool" }[_random.Next(4)]), // a later layer's
        }));
        if (pick < 88) return Add("null");
        if (pick < 94) return Add("\"\"");
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, BrokenJoins[_random.Next(BrokenJoins.Length)], kind);
    }

    private int _blocks;

    /// <summary>An inception module from the last layer: four branches (one with a stride that may break the join, CNN0027)
    /// joined by one Concat of several sources.</summary>
    private string Inception()
    {
        string stem = "\"" + _names[^1] + "\"";
        int id = ++_blocks;
        string stride = _random.Next(4) == 0 ? ", Stride = 2" : "";
        string norm = _random.Next(2) == 0 ? " [BatchNorm]" : "";
        return $"[Conv(1, {Small()}, Name = \"i{id}a\")]{norm} " +
               $"[Conv(1, {Small()}, From = {stem})] [ReLU] [Conv(3, {Small()}, Padding = 1{stride}, Name = \"i{id}b\")] " +
               $"[MaxPool(3, Stride = 1, Padding = 1, From = {stem})] [Conv(1, {Small()}, Name = \"i{id}c\")] " +
               $"[Concat(\"i{id}b\", \"i{id}c\", From = \"i{id}a\")]";
    }

    /// <summary>A ResNet block that may halve the map: a 1x1 convolution with the same stride on the shortcut, then an Add.</summary>
    private string ProjectionBlock()
    {
        string stem = "\"" + _names[^1] + "\"";
        int id = ++_blocks;
        int filters = Small();
        string stride = _random.Next(2) == 0 ? ", Stride = 2" : "";
        // Sometimes MobileNet's depthwise 3x3 on the main path (Groups = its channels).
        string depthwise = _random.Next(2) == 0 ? $", Groups = {filters}" : "";
        return $"[Conv(3, {filters}, Padding = 1{stride})] [BatchNorm] [ReLU] [Conv(3, {filters}, Padding = 1{depthwise})] [BatchNorm(Name = \"r{id}\")] " +
               $"[Conv(1, {filters}{stride}, From = {stem})] [BatchNorm] [Add(\"r{id}\")] [ReLU]";
    }

    /// <summary>No positional argument; Frozen = true is allowed, since a BatchNorm has parameters.</summary>
    private string BatchNorm()
    {
        string args = NamedArgs(false);
        return args.Length == 0 && _random.Next(2) == 0 ? "[BatchNorm]" : $"[BatchNorm({args})]";
    }

    /// <summary>One file declaring one class with a random attribute stack.</summary>
    public string NextFile(string className)
    {
        var sb = new StringBuilder("using CnnGen;\nnamespace Fuzz;\n");
        _names.Clear();
        _counts.Clear();
        _blocks = 0;
        int inputs = _random.Next(100) switch { < 8 => 0, < 15 => 2, _ => 1 };
        int layers = _random.Next(0, 7);
        int inputAt = _random.Next(0, layers + 1);
        for (int i = 0; i <= layers; i++)
        {
            if (i == inputAt) for (int k = 0; k < inputs; k++) sb.Append(Input()).Append(_random.Next(3) == 0 ? "\n" : " ");
            if (i < layers)
            {
                string layer = Layer();
                Track(layer);
                sb.Append(layer).Append(_random.Next(3) == 0 ? "\n" : " ");
            }
        }
        string modifiers = _random.Next(100) switch { < 3 => "public", < 5 => "public static partial", _ => "public partial" };
        string generic = _random.Next(100) < 2 ? "<T>" : "";
        string primary = _bodies.Next(100) < 3 ? "(int size)" : "";
        string body = _bodies.Next(100) < 15 ? " " + Members[_bodies.Next(Members.Length)].Replace("NAME", className, StringComparison.Ordinal) + " " : " ";
        sb.Append($"\n{modifiers} class {className}{generic}{primary} {{{body}}}\n");
        return sb.ToString();
    }
}
