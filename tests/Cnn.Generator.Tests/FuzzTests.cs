using System.Diagnostics;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests;

/// <summary>Thousands of random attribute stacks: the generator never throws, and what it emits always compiles.</summary>
public class FuzzTests(ITestOutputHelper output)
{
    private const int Batches = 50;
    private const int ClassesPerBatch = 50;

    [Fact]
    public void RandomAttributeStacks_NeverCrashAndAlwaysEmitCompilableCode()
    {
        var networks = new RandomNetworks(seed: 1998);
        int total = Batches * ClassesPerBatch;
        int generated = 0, rejected = 0, withBatchNorm = 0, misplacedBatchNorm = 0, withAdd = 0, badShortcut = 0;
        var clock = Stopwatch.StartNew();
        for (int batch = 0; batch < Batches; batch++)
        {
            var files = new Dictionary<string, string>();
            for (int i = 0; i < ClassesPerBatch; i++)
                files[$"Net{i}.cs"] = networks.NextFile($"Net{i}");
            var trees = files.Select(f => CSharpSyntaxTree.ParseText(f.Value, TestDriver.ParseOptions, path: f.Key))
                .Append(CSharpSyntaxTree.ParseText(RandomNetworks.HolderFile, TestDriver.ParseOptions, path: "Holder.cs"));
            var run = TestDriver.Run(TestDriver.Compile(trees));
            string Context(string? path) => path is not null && files.TryGetValue(path, out var text) ? "\n" + text : "";

            Assert.Null(run.Result.Exception);
            foreach (var d in run.GeneratorDiagnostics)
                Assert.False(d.Id is "CS8785" or "CNN9999", $"Batch {batch}: {d}{Context(d.Location.GetLineSpan().Path)}");
            // Shortcut messages keep their form whatever the stack: a layer, its position, and what it names or joins.
            foreach (var d in run.GeneratorDiagnostics.Where(d => d.Id is "CNN0025" or "CNN0026"))
            {
                string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
                string form = d.Id == "CNN0025"
                    ? @"^.* \(layer \d+\): '.*' is not a layer before it; name one of: (none \(an Add cannot be the first layer\)|.*)$"
                    : @"^.* \(layer \d+\): cannot add the output of .* \(\d+x\d+x\d+\) to its input, the output of .* \(\d+x\d+x\d+\); a shortcut needs equal shapes$";
                Assert.True(System.Text.RegularExpressions.Regex.IsMatch(message, form), $"Batch {batch}: {d}{Context(d.Location.GetLineSpan().Path)}");
            }

            // Files the compiler or the generator already rejects may fail; every other file, and every generated file, must not.
            var rejectedFiles = run.Input.GetDiagnostics().Concat(run.GeneratorDiagnostics)
                .Where(d => d.Severity == DiagnosticSeverity.Error)
                .Select(d => d.Location.GetLineSpan().Path).ToHashSet();
            foreach (var d in run.OutputDiagnostics)
            {
                string? path = d.Location.SourceTree?.FilePath;
                bool generatedFile = path is not null && !files.ContainsKey(path) && path != "Holder.cs";
                if (generatedFile)
                    Assert.True(d.Severity < DiagnosticSeverity.Warning, $"Batch {batch}: generated code has {d}");
                else if (d.Severity == DiagnosticSeverity.Error)
                    Assert.True(path is not null && rejectedFiles.Contains(path), $"Batch {batch}: new error {d}{Context(path)}");
            }

            generated += run.Sources.Length;
            withBatchNorm += run.Sources.Count(s => s.SourceText.ToString().Contains("public bool FoldBatchNorm", StringComparison.Ordinal));
            misplacedBatchNorm += run.GeneratorDiagnostics.Count(d => d.Id is "CNN0023" or "CNN0024");
            withAdd += run.Sources.Count(s => s.SourceText.ToString().Contains(": shortcut: adds ", StringComparison.Ordinal));
            badShortcut += run.GeneratorDiagnostics.Count(d => d.Id is "CNN0025" or "CNN0026");
            rejected += files.Keys.Count(rejectedFiles.Contains);
        }

        output.WriteLine($"{total} stacks: {generated} generated ({withBatchNorm} with a BatchNorm, {withAdd} with an Add), {rejected} rejected, " +
                         $"{misplacedBatchNorm} CNN0023/CNN0024, {badShortcut} CNN0025/CNN0026, in {clock.Elapsed.TotalSeconds:F1} s");
        // The stacks must exercise both sides: plenty of sound networks (489 of 2,500 with this seed) and plenty of rejected ones.
        Assert.InRange(generated, total / 8, total);
        Assert.InRange(rejected, total / 5, total);
        // BatchNorm is in the vocabulary: many generated networks have one, and many stacks misplace one.
        Assert.InRange(withBatchNorm, total / 50, generated);
        Assert.InRange(misplacedBatchNorm, total / 50, 2 * total);
        // So is [Add]: many generated networks have a shortcut (104 with this seed), and many stacks name or join wrongly.
        Assert.InRange(withAdd, total / 50, generated);
        Assert.InRange(badShortcut, total / 50, 2 * total);
    }
}
