using TorchSharp;
using static TorchSharp.torch;

namespace CnnGen.EngineRace.Torch;

/// <summary>A module that only holds submodules, so that a layer named with a PyTorch module path such as
/// <c>layer1.0.conv1</c> (TorchSharp refuses dots in one name) sits at that path and its tensors get that prefix.</summary>
internal sealed class ModuleGroup(string name) : nn.Module(name)
{
    /// <summary>Registers <paramref name="layer"/> under the dotted <paramref name="path"/> below <paramref name="root"/>,
    /// creating the groups on the way; <paramref name="groups"/> holds those already made, by path (<c>layer1.0</c>).</summary>
    public static void Register(nn.Module root, Dictionary<string, ModuleGroup> groups, string path, nn.Module layer)
    {
        string[] parts = path.Split('.');
        nn.Module parent = root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            string prefix = string.Join('.', parts[..(i + 1)]);
            if (!groups.TryGetValue(prefix, out var group))
            {
                group = new ModuleGroup(parts[i]);
                groups[prefix] = group;
                parent.register_module(parts[i], group);
            }
            parent = group;
        }
        parent.register_module(parts[^1], layer);
    }
}
