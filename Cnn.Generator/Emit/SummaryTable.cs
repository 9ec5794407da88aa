using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>The architecture table (like torchinfo's or Keras's <c>summary()</c>), computed at compile time.</summary>
internal static class SummaryTable
{
    public static string Build(NetworkSpec spec)
    {
        var header = new[] { "Layer", "Kind", "Output", "RF", "Stride", "Pad", "Params", "MACs" };
        var rows = new List<string[]>
        {
            new[] { "input", "Input", spec.Input.ToString(), "1", "1", "0", "0", "0" },
        };
        foreach (var l in spec.Layers)
        {
            string rf = l.ReceptiveFieldHeight == l.ReceptiveFieldWidth
                ? Number(l.ReceptiveFieldHeight) : $"{l.ReceptiveFieldHeight}x{l.ReceptiveFieldWidth}";
            string kind = l.Op switch
            {
                ConvOp c => $"Conv {c.Kernel}x{c.Kernel}" + (c.Stride != 1 ? $"/{c.Stride}" : "") + (c.Dilation != 1 ? $" d{c.Dilation}" : ""),
                PoolOp p => $"{l.Kind} {p.Size}x{p.Size}" + (p.Stride != p.Size ? $"/{p.Stride}" : ""),
                JoinOp j => $"{l.Kind} {string.Join(" ", j.SourceNames)}",
                _ => l.Kind.ToString(),
            };
            rows.Add(new[] { l.Name, kind, l.Output.ToString(), rf, Number(l.EffectiveStride), Number(l.EffectivePadding), Number(l.Parameters), Number(l.Macs) });
        }

        var widths = header.Select((h, i) => rows.Max(r => r[i].Length) > h.Length ? rows.Max(r => r[i].Length) : h.Length).ToArray();
        var sb = new StringBuilder();
        sb.Append(spec.ClassName).Append(": input ").Append(spec.Input).Append(", ")
          .Append(Number(spec.Output.Length)).Append(spec.EndsWithSoftmax ? " class probabilities" : " outputs").Append('\n');
        AppendRow(sb, header, widths);
        AppendRow(sb, widths.Select(w => new string('-', w)).ToArray(), widths);
        foreach (var row in rows) AppendRow(sb, row, widths);
        sb.Append("Parameters: ").Append(Number(spec.ParameterCount))
          .Append("; forward MACs per image: ").Append(Number(spec.ForwardMacs))
          .Append(" (").Append(Number(2 * spec.ForwardMacs)).Append(" FLOPs)\n");
        sb.Append("RF: receptive field in input pixels; Stride, Pad: effective stride and padding seen from the input.");
        return sb.ToString();
    }

    private static void AppendRow(StringBuilder sb, string[] cells, int[] widths)
    {
        for (int i = 0; i < cells.Length; i++)
        {
            if (i > 0) sb.Append("  ");
            // Names and kinds left-aligned, numbers right-aligned.
            sb.Append(i < 3 ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i]));
        }
        // No trailing spaces on any line.
        while (sb.Length > 0 && sb[sb.Length - 1] == ' ') sb.Length--;
        sb.Append('\n');
    }

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
