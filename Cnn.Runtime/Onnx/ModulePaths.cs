namespace CnnGen.Onnx;

/// <summary>
/// Layer names for imported layers: PyTorch's module paths where the exporter kept them (a parameter's initializer
/// <c>layer1.0.conv1.weight</c> gives <c>layer1.0.conv1</c>; a node <c>/layer1/layer1.0/relu/Relu</c> gives
/// <c>layer1.0.relu</c>), the node's own name when it is already one, else the generator's default (<c>conv3</c>).
/// Every name is unique, also after <c>.</c> becomes <c>_</c> (the generated members' spelling).
/// </summary>
internal sealed class ModulePaths
{
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal) { "input" };
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);

    public string For(string kind, OnnxNode node, string? weight)
    {
        string? name = null;
        if (weight is not null && weight.EndsWith(".weight", StringComparison.Ordinal) && IsModulePath(weight[..^".weight".Length]))
            name = weight[..^".weight".Length];
        name ??= FromNodeName(node.Name);
        return Unique(name ?? Default(kind));
    }

    /// <summary>A name in the generator's rule: parts of ASCII letters, digits and '_', joined by single dots.</summary>
    public static bool IsModulePath(string name) =>
        name.Length > 0 && name.Split('.').All(part => part.Length > 0 && part.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'));

    /// <summary>PyTorch 1.13+'s scoped node name (<c>/features/features.0/features.0.2/Clip</c>) as a module path
    /// (<c>features.0.2</c>); a plain name that is already a module path as it is.</summary>
    private static string? FromNodeName(string nodeName)
    {
        if (!nodeName.Contains('/')) return IsModulePath(nodeName) ? nodeName : null;
        var scopes = nodeName.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (scopes.Length < 2) return null; // only the op: no module
        string path = "";
        foreach (var scope in scopes[..^1])
            path = path.Length == 0 || scope.StartsWith(path + ".", StringComparison.Ordinal) ? scope : path + "." + scope;
        return IsModulePath(path) ? path : null;
    }

    private string Default(string kind)
    {
        string prefix = kind switch
        {
            "Conv" => "conv",
            "MaxPool" or "AvgPool" or "GlobalAvgPool" => "pool",
            "Dense" => "dense",
            "ReLU6" => "relu6_",
            "BatchNorm" => "bn",
            _ => kind.ToLowerInvariant(),
        };
        int n;
        do
        {
            _counters[prefix] = n = _counters.GetValueOrDefault(prefix) + 1;
        } while (_ids.Contains(Id(prefix + n)));
        return prefix + n;
    }

    private string Unique(string name)
    {
        string candidate = name;
        for (int k = 2; !_ids.Add(Id(candidate)); k++) candidate = $"{name}_{k}";
        return candidate;
    }

    private static string Id(string name) => name.Replace('.', '_');
}
