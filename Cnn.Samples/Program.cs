using System.CommandLine;
using CnnGen.Samples.Networks;

var root = new RootCommand("CnnGen samples: convolutional networks declared with attributes, compiled by a source generator.");

var summary = new Command("summary", "Print the architecture table of every sample network (or of --model).");
var summaryModel = new Option<string?>("--model") { Description = "Only this network: " + string.Join(", ", SampleNetworks.All.Select(e => e.Name)) };
summary.Options.Add(summaryModel);
summary.SetAction(parse =>
{
    var name = parse.GetValue(summaryModel);
    var entries = name is null ? SampleNetworks.All : SampleNetworks.Find(name) is { } e ? [e] : null;
    if (entries is null)
    {
        Console.Error.WriteLine($"Unknown model '{name}'. Known: {string.Join(", ", SampleNetworks.All.Select(x => x.Name))}.");
        return 2;
    }
    foreach (var entry in entries)
    {
        Console.WriteLine(entry.Summary);
        Console.WriteLine();
    }
    return 0;
});
root.Subcommands.Add(summary);

return root.Parse(args).Invoke();
