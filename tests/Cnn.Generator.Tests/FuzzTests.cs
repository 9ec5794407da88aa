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
        int generated = 0, rejected = 0, withBatchNorm = 0, misplacedBatchNorm = 0, withAdd = 0, badShortcut = 0, withConcat = 0, badConcat = 0;
        int withBranches = 0, badFrom = 0, unread = 0, grouped = 0, badGroups = 0, collisions = 0;
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
            // Shortcut and dense-connection messages keep their form whatever the stack: a layer, its position, and what it
            // names or joins; the shapes CNN0026 names differ, and so do the heights or widths CNN0027 names.
            foreach (var d in run.GeneratorDiagnostics.Where(d => d.Id is "CNN0028" or "CNN0029" or "CNN0030"))
            {
                string form = d.Id == "CNN0030" ? @"^.* \(layer \d+\): -?\d+ groups must divide both the \d+ input channels \(.*\) and the \d+ filters$"
                    : d.Id == "CNN0028"
                    ? @"^.* \(layer \d+\): From = '.*' is not a layer before it; name one of: (none \(it is the first layer\)|.*)$"
                    : @"^.* \(layer \d+\): no layer reads its output and it is not the network's output \(.*\); name it in a From, Add or Concat, or remove it$";
                Assert.True(System.Text.RegularExpressions.Regex.IsMatch(d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), form), $"Batch {batch}: {d}{Context(d.Location.GetLineSpan().Path)}");
            }
            foreach (var d in run.GeneratorDiagnostics.Where(d => d.Id is "CNN0025" or "CNN0026" or "CNN0027"))
            {
                string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
                string form = d.Id switch
                {
                    "CNN0025" => @"^.* \(layer \d+\): '.*' is not a layer before it; name one of: (none \((an Add|a Concat) cannot be the first layer\)|.*)$",
                    "CNN0026" => @"^.* \(layer \d+\): cannot add the output of .* \(\d+x\d+x\d+\) to its input, the (output of .*|network input) \(\d+x\d+x\d+\); a shortcut needs equal shapes$",
                    _ => @"^.* \(layer \d+\): cannot join the output of .* \(\d+x\d+x\d+\) to its input, the (output of .*|network input) \(\d+x\d+x\d+\); the heights and widths must be equal$",
                };
                Assert.True(System.Text.RegularExpressions.Regex.IsMatch(message, form), $"Batch {batch}: {d}{Context(d.Location.GetLineSpan().Path)}");
                if (d.Id == "CNN0025") continue;
                var shapes = System.Text.RegularExpressions.Regex.Matches(message, @"\((\d+)x(\d+)x(\d+)\)")
                    .Select(m => (C: m.Groups[1].Value, H: m.Groups[2].Value, W: m.Groups[3].Value)).ToList();
                Assert.Equal(2, shapes.Count);
                Assert.True(d.Id == "CNN0026" ? shapes[0] != shapes[1] : (shapes[0].H, shapes[0].W) != (shapes[1].H, shapes[1].W),
                    $"Batch {batch}: {d}{Context(d.Location.GetLineSpan().Path)}");
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
            badShortcut += run.GeneratorDiagnostics.Count(d => d.Id is "CNN0025" or "CNN0026" or "CNN0027");
            withConcat += run.Sources.Count(s => s.SourceText.ToString().Contains(": dense connection: ", StringComparison.Ordinal));
            badConcat += run.GeneratorDiagnostics.Count(d => d.Id == "CNN0027");
            rejected += files.Keys.Count(rejectedFiles.Contains);
            // A layer read by several layers: all but one write their input gradient aside, to be added.
            withBranches += run.Sources.Count(s => s.SourceText.ToString().Contains("'s input gradient", StringComparison.Ordinal));
            badFrom += run.GeneratorDiagnostics.Count(d => d.Id == "CNN0028");
            unread += run.GeneratorDiagnostics.Count(d => d.Id == "CNN0029");
            grouped += run.Sources.Count(s => s.SourceText.ToString().Contains(" groups, stride ", StringComparison.Ordinal));
            badGroups += run.GeneratorDiagnostics.Count(d => d.Id == "CNN0030");
            collisions += run.GeneratorDiagnostics.Count(d => d.Id == "CNN0032");
        }

        output.WriteLine($"{total} stacks: {generated} generated ({withBatchNorm} with a BatchNorm, {withAdd} with an Add, {withConcat} with a Concat), " +
                         $"{rejected} rejected, {misplacedBatchNorm} CNN0023/CNN0024, {badShortcut} CNN0025/CNN0026/CNN0027 ({badConcat} CNN0027), " +
                         $"{withBranches} with a layer read by several, {badFrom} CNN0028, {unread} CNN0029, {grouped} with a grouped convolution, {badGroups} CNN0030, {collisions} CNN0032, " +
                         $"in {clock.Elapsed.TotalSeconds:F1} s");
        // The stacks must exercise both sides: plenty of sound networks (470 of 2,500 with this seed) and plenty of rejected ones.
        Assert.InRange(generated, total / 8, total);
        Assert.InRange(rejected, total / 5, total);
        // BatchNorm is in the vocabulary: many generated networks have one, and many stacks misplace one.
        Assert.InRange(withBatchNorm, total / 50, generated);
        Assert.InRange(misplacedBatchNorm, total / 50, 2 * total);
        // So is [Add]: many generated networks have a shortcut (109 with this seed), and many stacks name or join wrongly.
        Assert.InRange(withAdd, total / 50, generated);
        Assert.InRange(badShortcut, total / 50, 2 * total);
        // And [Concat]: many generated networks have a dense connection (81 with this seed), and many stacks join maps of
        // different sizes (81 CNN0027 with this seed).
        Assert.InRange(withConcat, total / 50, generated);
        Assert.InRange(badConcat, total / 100, total);
        // And the graph forms: generated networks whose gradients meet at a layer read by several, From naming no earlier
        // layer, and branches that lead nowhere.
        Assert.InRange(withBranches, total / 100, generated);
        Assert.InRange(badFrom, total / 100, 2 * total);
        Assert.InRange(unread, total / 100, 2 * total);
        // And grouped convolutions, sound and not.
        Assert.InRange(grouped, total / 200, generated);
        Assert.InRange(badGroups, total / 200, 2 * total);
        // And class bodies with members, some of which clash with the generated code.
        Assert.InRange(collisions, total / 400, total);
    }
}
