using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Max pooling keeps each window's winner only for the backward pass: a pass that keeps nothing for backward (inference)
/// calls the values-only kernel, a pass that does calls the kernels with winners, and the winners' buffer is grown only
/// for passes that compute gradients. A range of a split pass (always inference) calls the values-only kernel.
/// </summary>
public class MaxPoolInferenceTests
{
    private static string Generate(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Pools;\n" + attributes + "\npublic partial class Net { }").Sources.Single().SourceText.ToString();

    /// <summary>The body of the method <paramref name="name"/>: from its declaration to its matching closing brace.</summary>
    private static string Method(string code, string name)
    {
        int start = code.IndexOf($"void {name}(", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no method {name}");
        int open = code.IndexOf('{', start), depth = 0, end = open;
        do
        {
            if (code[end] == '{') depth++;
            else if (code[end] == '}') depth--;
            end++;
        } while (depth > 0);
        return code[start..end];
    }

    [Fact]
    public void InferenceCallsTheValuesKernelAndTrainingTheKernelsWithWinners()
    {
        string code = Generate("[Input(2, 15, 15)] [Conv(3, 4, Padding = 1)] [MaxPool(3, Stride = 2, Padding = 1)] [MaxPool(2)] [Dense(5)]");
        string pool1 = Method(code, "Forward_pool1"), pool2 = Method(code, "Forward_pool2");
        Assert.Contains("if (!ws.KeepForBackward)", pool1, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.Pooling.MaxPoolValues(inp, outp, planes: batch * 4, height: 15, width: 15, size: 3, stride: 2, padding: 1, outHeight: 8, outWidth: 8);", pool1, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.Pooling.MaxPool(inp, outp, ws._argmax_pool1, planes: batch * 4, height: 15, width: 15, size: 3, stride: 2, padding: 1, outHeight: 8, outWidth: 8);", pool1, StringComparison.Ordinal);
        Assert.True(pool1.IndexOf("MaxPoolValues", StringComparison.Ordinal) < pool1.IndexOf("else", StringComparison.Ordinal));
        // The 2x2 halving: the same values kernel in inference, the 2x2 kernel with winners for backward.
        Assert.Contains("global::CnnGen.Kernels.Pooling.MaxPoolValues(inp, outp, planes: batch * 4, height: 8, width: 8, size: 2, stride: 2, padding: 0, outHeight: 4, outWidth: 4);", pool2, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.Pooling.MaxPool2x2(inp, outp, ws._argmax_pool2, planes: batch * 4, height: 8, width: 8);", pool2, StringComparison.Ordinal);
    }

    [Fact]
    public void TheWinnersBufferIsGrownOnlyForPassesThatComputeGradients()
    {
        string code = Generate("[Input(2, 12, 12)] [Conv(3, 4, Padding = 1)] [MaxPool(2)] [Dense(5)]");
        string ensure = Method(code, "Ensure");
        int training = ensure.IndexOf("if (!training) return;", StringComparison.Ordinal);
        Assert.True(training > 0);
        Assert.True(ensure.IndexOf("Grow(ref _argmax_pool1, 144L * batch, batch);", StringComparison.Ordinal) > training);
    }

    [Fact]
    public void ASplitPoolsRangesCallTheValuesKernel()
    {
        // 16 x 65 x 65 values: the pool is split over the threads by channels.
        string code = Generate("[Input(16, 65, 65)] [MaxPool(3, Stride = 2, Padding = 1)] [Dense(5)]");
        string range = Method(code, "ForwardPlanes_pool1");
        Assert.Contains("global::CnnGen.Kernels.Pooling.MaxPoolValues(inp.Slice((b * 16 + start) * 4225), outp.Slice((b * 16 + start) * 1089), planes: b * 16 + end - (b * 16 + start), " +
                        "height: 65, width: 65, size: 3, stride: 2, padding: 1, outHeight: 33, outWidth: 33);", range, StringComparison.Ordinal);
        Assert.DoesNotContain("_argmax_", range, StringComparison.Ordinal);
        Assert.DoesNotContain("KeepForBackward", range, StringComparison.Ordinal);
    }
}
