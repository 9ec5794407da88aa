using TorchSharp;
using static TorchSharp.torch;

namespace CnnGen.EngineRace.Torch;

/// <summary>A module that only holds submodules, so that a layer named with a PyTorch module path such as
/// <c>layer1.0.conv1</c> (TorchSharp refuses dots in one name) sits at that path and its tensors get that prefix.</summary>
internal sealed class ModuleGroup(string name) : nn.Module(name)
{
    private readonly Dictionary<string, ModuleGroup> _groups = [];

    /// <summary>Registers <paramref name="layer"/> under the dotted <paramref name="path"/>, creating the groups on the way.</summary>
    public static void Register(nn.Module root, Dictionary<string, ModuleGroup> rootGroups, string path, nn.Module layer)
    {
        string[] parts = path.Split('.');
        nn.Module parent = root;
        var groups = rootGroups;
        foreach (string part in parts[..^1])
        {
            if (!groups.TryGetValue(part, out var group))
            {
                group = new ModuleGroup(part);
                groups[part] = group;
                parent.register_module(part, group);
            }
            parent = group;
            groups = group._groups;
        }
        parent.register_module(parts[^1], layer);
    }
}
