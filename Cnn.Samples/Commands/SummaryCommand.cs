using System.CommandLine;
using System.Globalization;
using CnnGen.Samples.Networks;

namespace CnnGen.Samples.Commands;

/// <summary><c>summary</c>: the compile-time architecture tables, and the sample networks' sizes side by side.</summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "Only this network: " + string.Join(", ", SampleNetworks.All.Select(e => e.Name)) };
        var command = new Command("summary", "Print each sample network's layers, output shapes, receptive fields, parameters and MACs.") { model };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(model);
            var entries = name is null ? SampleNetworks.All : SampleNetworks.Find(name) is { } e ? [e] : null;
            if (entries is null)
            {
                Console.Error.WriteLine($"Unknown model '{name}'. Choose one of: {string.Join(", ", SampleNetworks.All.Select(x => x.Name))}.");
                return 2;
            }
            foreach (var entry in entries)
            {
                Console.WriteLine(entry.Summary);
                Console.WriteLine();
            }
            if (entries.Count > 1)
            {
                Console.WriteLine("Parameters side by side:");
                foreach (var entry in entries)
                    Console.WriteLine($"  {entry.Name,-8} {entry.Parameters.ToString("N0", CultureInfo.InvariantCulture),13}  {entry.Description}");
            }
            return 0;
        });
        return command;
    }
}
