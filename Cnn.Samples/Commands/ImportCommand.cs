using System.CommandLine;
using CnnGen.Onnx;
using CnnGen.Samples.Cli;

namespace CnnGen.Samples.Commands;

/// <summary><c>import</c>: someone else's ONNX model as a CnnGen network: the C# declaration (<c>Name.cs</c>, a partial
/// class with one attribute per layer) and its weights (<c>Name.safetensors</c>, under the generated class's tensor
/// names). Nothing is written unless the whole model was understood.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("model") { Description = "The ONNX model to import (float32, a fixed C x H x W input, opset 7 or later)" };
        var className = new Option<string>("--class") { Description = "Name of the network class to write (a C# identifier)", Required = true };
        var @namespace = new Option<string>("--namespace") { Description = "Namespace of the class (e.g. MyApp.Networks)", Required = true };
        var output = new Option<string>("--out", "-o")
        {
            Description = "Folder to write CLASS.cs and CLASS.safetensors into (default: the current folder)",
            DefaultValueFactory = _ => ".",
        };
        var command = new Command("import", "Compile an ONNX model into a CnnGen network: a C# declaration and its weights.")
        {
            file, className, @namespace, output,
        };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(className)!, parse.GetValue(@namespace)!, parse.GetValue(output)!));
        return command;
    }

    private static int Run(string path, string className, string @namespace, string directory)
    {
        if (!CSharpNames.IsIdentifier(className))
        {
            Console.Error.WriteLine($"--class '{className}' is not a C# identifier (letters, digits and '_', not starting with a digit, not a keyword).");
            return 2;
        }
        if (@namespace.Length == 0 || !@namespace.Split('.').All(CSharpNames.IsIdentifier))
        {
            Console.Error.WriteLine($"--namespace '{@namespace}' is not a C# namespace (identifiers joined by dots, as in MyApp.Networks).");
            return 2;
        }
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"Cannot import {path}: no such file.");
            return 1;
        }
        ImportedNetwork network;
        try
        {
            network = OnnxImport.Read(path);
        }
        catch (OnnxImportException e)
        {
            Console.Error.WriteLine($"Cannot import {path}: {ErrorText.Of(e)}. Nothing was written.");
            return 1;
        }
        string declaration, weights;
        try
        {
            (declaration, weights) = OnnxImport.Save(network, className, @namespace, directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Cannot write {className}.cs and {className}.safetensors into {directory}: {ErrorText.Of(e)}");
            return 1;
        }
        Console.WriteLine($"Wrote {declaration}: {@namespace}.{className}, {network.Layers.Count} layers, {network.ParameterCount:N0} parameters, input {network.InputChannels}x{network.InputHeight}x{network.InputWidth}.");
        Console.WriteLine($"Wrote {weights}: {network.Tensors.Count} tensors under the class's names; load them with Checkpoint.Load(\"{Path.GetFileName(weights)}\", new {className}(seed: 0)).");
        var unread = network.Layers.Where(l => l.LeavesInputUnread).Select(l => l.Name).ToList();
        if (unread.Count > 0)
            Console.WriteLine($"Note: the strides of {string.Join(", ", unread)} leave the last input rows or columns unread, as in the model; the generator warns about it (CNN0011), so a project that treats warnings as errors needs <NoWarn>$(NoWarn);CNN0011</NoWarn>.");
        return 0;
    }
}
