using System.Runtime.CompilerServices;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>The sample networks' source files (Cnn.Samples/Networks), so the tests check the networks users build.</summary>
internal static class Networks
{
    public static string LeNet5 { get; } = Sample("LeNet5.cs");
    public static string AlexNet { get; } = Sample("AlexNet.cs");
    public static string Vgg16 { get; } = Sample("Vgg16.cs");
    public static string Zf5 { get; } = Sample("Zf5.cs");
    public static string LeNet5BatchNorm { get; } = Sample("LeNet5BatchNorm.cs");
    public static string SmallResNet { get; } = Sample("SmallResNet.cs");
    public static string ResNet18 { get; } = Sample("ResNet18.cs");

    private static string Sample(string file, [CallerFilePath] string callerFile = "")
    {
        for (var dir = Path.GetDirectoryName(callerFile); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string path = Path.Combine(dir, "Cnn.Samples", "Networks", file);
            if (File.Exists(path)) return File.ReadAllText(path);
        }
        throw new InvalidOperationException($"Cannot find Cnn.Samples/Networks/{file} above {callerFile}");
    }
}
