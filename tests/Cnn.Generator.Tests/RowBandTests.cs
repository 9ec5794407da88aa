using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Bands of rows: in a split pass of one image, consecutive direct convolutions of one map size split by output rows run
/// as one job, each thread computing its rows of the band's last outputs through every layer (the rows the next layers
/// read beyond them again), the outputs of all but the last layer in its own copies. Which chains make a band, where
/// a band is cut, and the code that runs one.
/// </summary>
public class RowBandTests
{
    private static string Generate(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Bands;\n" + attributes + "\npublic partial class Net { }").Sources.Single().SourceText.ToString();

    /// <summary>The bands' first convolutions, in order.</summary>
    private static string[] Bands(string code) =>
        System.Text.RegularExpressions.Regex.Matches(code, @"RunSplit\(_ForwardBand_(\w+) \?\?=").Select(m => m.Groups[1].Value).ToArray();

    /// <summary>The shared buffer an output takes turns in (from the workspace's field comments).</summary>
    private static string BufferOf(string code, string output) =>
        code.Split('\n').Single(line => line.Contains("private float[] _shared") && System.Text.RegularExpressions.Regex.IsMatch(line, $@"\b{output}\b"))
            .Trim().Split(' ')[2];

    // The CIFAR ResNet's first stage after a 1x1 layer (mix, counted as conv1): conv2 to conv6, BatchNorms folded, two sums, a pool.
    private const string Stage =
        "[Input(3, 32, 32)] [Conv(1, 3, Name = \"mix\")] " +
        "[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] " +
        "[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 16, Padding = 1)] [BatchNorm] [Add(\"relu1\")] [ReLU] " +
        "[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 16, Padding = 1)] [BatchNorm] [Add(\"relu3\")] [ReLU] " +
        "[MaxPool(2)] [Dense(10)]";

    [Fact]
    public void FiveConvolutionsWithTheirSumsAndPoolRunAsOneBand()
    {
        string code = Generate(Stage);
        Assert.Equal(new[] { "conv2" }, Bands(code));
        // The first convolution hands out the band: the last map's 32 rows, cut at even rows for the pool, one range per thread.
        Assert.Contains("if (batch == 1 && ws.Folded)", code);
        Assert.Contains("// conv2 to conv6 run as one band of rows: each thread computes its rows of conv6's output through all 5 layers, and the rows beyond " +
                        "them that the layers after each read (4, 3, 2, 1 rows out), so the threads meet once, not 5 times, and read no row the other wrote.", code);
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardBand_conv2 ??= ForwardBand_conv2, ws, inp.Slice(0, 3072), default, default, default, 1, units: 32, block: 2, piecesPerThread: 1);", code);
        // The other four return at once in that pass (their sums' and the pool's passes already do).
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(code, @"if \(batch == 1 && ws\.Folded\) return; // computed in conv2's band of rows").Count);
        // Each layer's rows: this range's, widened by the paddings of the layers after it.
        Assert.Contains("int from0 = global::System.Math.Max(start - 4, 0), to0 = global::System.Math.Min(end + 4, 32); // conv2's rows: 4 more on each side", code);
        Assert.Contains("int from3 = global::System.Math.Max(start - 1, 0), to3 = global::System.Math.Min(end + 1, 32); // conv5's rows: 1 more on each side", code);
        Assert.Contains("int from4 = start, to4 = end; // conv6's rows", code);
        // The outputs of conv2 to conv5 (and the sum between them) in this thread's copies; conv6's, its sum's and the pool's in the workspace.
        Assert.Contains("var copies = t_ForwardBand_conv2 ??= new float[81920];", code);
        Assert.Contains("var own_bn3 = new global::System.Span<float>(copies, 32768, 16384);", code);
        Assert.Contains("var act_relu5 = new global::System.Span<float>(ws._act_relu5);", code);
        Assert.Contains("ForwardRows_conv2(ws, inp, own_relu1, new global::System.ReadOnlySpan<float>(_folded, ", code);
        Assert.Contains("ForwardRows_conv4(ws, own_relu2, own_bn3, ", code);
        Assert.Contains("ForwardRows_conv6(ws, own_relu4, act_bn5, ", code);
        // The sums over the rows their convolution computed, their shortcuts from the copies.
        Assert.Contains("var x = own_bn3.Slice(c * 1024 + from2 * 32, (to2 - from2) * 32);", code);
        Assert.Contains("var shortcut = own_relu1.Slice(c * 1024 + from2 * 32, x.Length); // relu1's output", code);
        Assert.Contains("var y = act_relu5.Slice(c * 1024 + from4 * 32, x.Length);", code);
        Assert.Contains("var shortcut = own_relu3.Slice(c * 1024 + from4 * 32, x.Length); // relu3's output", code);
        Assert.Contains("var poolOutput = new global::System.Span<float>(ws._act_pool1); // pool1's output, pooled from what this range summed", code);
    }

    [Fact]
    public void WhatTheBandWritesToTheWorkspaceSharesNoBufferWithItsInput()
    {
        // A range may still read mix's output while another stores conv6's rows: the band's job names every workspace
        // output it writes, so they are live from its first layer on.
        string code = Generate(Stage);
        Assert.Contains("the band's last layer writes _act_bn5, _act_relu5, _act_pool1 in the workspace.", code);
        string input = BufferOf(code, "_act_mix");
        Assert.All(new[] { "_act_bn5", "_act_relu5", "_act_pool1" }, output => Assert.NotEqual(input, BufferOf(code, output)));
        Assert.Equal(3, new[] { "_act_bn5", "_act_relu5", "_act_pool1" }.Select(o => BufferOf(code, o)).Distinct().Count());
    }

    [Fact]
    public void ABandEndsBeforeALayerWhoseOutputIsReadAfterIt()
    {
        // relu1 is read by the sum after conv3 (which its ranges do not take over: conv3 has a ReLU of its own), so a thread's
        // copy of it would not do: conv1 is left out, and conv2 and conv3 make a band, without BatchNorm under batch == 1 alone.
        string code = Generate("[Input(8, 28, 28)] [Conv(3, 16, Padding = 1)] [ReLU] [Conv(3, 16, Padding = 1)] [ReLU] [Conv(3, 16, Padding = 1)] [ReLU] " +
                               "[Add(\"relu1\")] [Dense(10)]");
        Assert.Equal(new[] { "conv2" }, Bands(code));
        Assert.Contains("if (batch == 1) return; // computed in conv2's band of rows", code);
        Assert.Contains("(1 row out), so the threads meet once, not twice,", code);
        Assert.Contains("ForwardRows_conv3(ws, own_relu2, act_relu3, ", code);
    }

    [Fact]
    public void ABandStopsGrowingWhereItWouldComputeMoreThanAQuarterAgain()
    {
        // Twelve 3x3 layers on 32 rows: nine compute 36 rows again against 144 owned per thread (25%); ten would compute
        // 45 against 160. The last three make a band of their own.
        string layers = string.Concat(Enumerable.Repeat("[Conv(3, 16, Padding = 1)] [ReLU] ", 12));
        string code = Generate("[Input(16, 32, 32)] " + layers + "[Dense(10)]");
        Assert.Equal(new[] { "conv1", "conv10" }, Bands(code));
        Assert.Contains("(8, 7, 6, 5, 4, 3, 2, 1 rows out)", code);
        Assert.Contains("(2, 1 rows out)", code);
    }

    [Theory]
    [InlineData("[Input(16, 32, 32)] [Conv(3, 16, Padding = 1)] [ReLU] [MaxPool(2)] [Conv(3, 16, Padding = 1)] [ReLU] [Dense(10)]")] // a pool between them
    [InlineData("[Input(32, 16, 16)] [Conv(3, 32, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [ReLU] [Dense(10)]")]               // Winograd layers
    [InlineData("[Input(16, 32, 32)] [Conv(3, 16, Padding = 1)] [ReLU] [Conv(4, 16, Stride = 2, Padding = 1)] [ReLU] [Dense(10)]")]  // a stride-2 layer
    public void ChainsThatAreNotBandsKeepTheirLayersRanges(string attributes)
    {
        string code = Generate(attributes);
        Assert.Empty(Bands(code));
        Assert.DoesNotContain("ForwardBand_", code);
    }
}
