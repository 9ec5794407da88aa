using System.Buffers.Binary;
using System.CommandLine;
using CnnGen.Samples.Cli;

namespace CnnGen.Samples.Tests;

/// <summary>Runs commands in-process through the program's own entry point, capturing standard output and error.</summary>
internal static class CommandRunner
{
    public static (int Exit, string Out, string Error) Run(params string[] args) => Run(EntryPoint.CreateRoot(), args);

    public static (int Exit, string Out, string Error) Run(RootCommand root, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int exit = EntryPoint.Run(root, args);
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }

    /// <summary>Writes the four IDX files of a small dataset of <paramref name="size"/>x<paramref name="size"/> grey
    /// images (pixels and labels from a seed) into <paramref name="directory"/>.</summary>
    public static void WriteDataset(string directory, int trainCount, int testCount, int size = 28)
    {
        var random = new Random(size + trainCount);
        void Write(string name, int[] dims)
        {
            long values = dims.Aggregate(1L, (a, d) => a * d);
            var bytes = new byte[4 + 4 * dims.Length + values];
            bytes[2] = 0x08;
            bytes[3] = (byte)dims.Length;
            for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
            for (long i = 4 + 4 * dims.Length; i < bytes.Length; i++) bytes[i] = (byte)(dims.Length == 1 ? random.Next(10) : random.Next(256));
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
        }
        Write("train-images-idx3-ubyte", [trainCount, size, size]);
        Write("train-labels-idx1-ubyte", [trainCount]);
        Write("t10k-images-idx3-ubyte", [testCount, size, size]);
        Write("t10k-labels-idx1-ubyte", [testCount]);
    }
}
