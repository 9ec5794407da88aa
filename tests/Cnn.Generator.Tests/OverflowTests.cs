using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;

namespace CnnGen.Generator.Tests;

/// <summary>Arguments near int.MaxValue: sizes must not wrap around into small (or negative) shapes.</summary>
public class OverflowTests
{
    [Fact]
    public void InputWhoseLengthWrapsPast64Bits_IsTooLarge() =>
        // 65536 * 16777216 * 16777216 = 2^64, which is 0 in 64-bit arithmetic.
        Error("[[|Input(65536, 16777216, 16777216)|]] [Dense(1)]\npublic partial class Net { }",
            "CNN0018", "input: the input has", "more than this library handles (1073741824)");

    [Fact]
    public void OutputSideLongerThanAnInt_IsTooLarge() =>
        // 1 + 2 * int.MaxValue rows: the output side alone does not fit an int.
        Reports("[Input(1, 1, 1)] [[|Conv(1, 1, Padding = int.MaxValue)|]]\npublic partial class Net { }",
            "CNN0018", DiagnosticSeverity.Error, new[] { "conv1 (layer 1): the output has" }, "CNN0012");

    [Fact]
    public void EffectiveStrideSaturatesInsteadOfWrapping()
    {
        var run = TestDriver.Run(Header + """
            [Input(1, 1, 1)]
            [Conv(1, 1, Stride = 1 << 30)] [Conv(1, 1, Stride = 1 << 30)]
            [Conv(1, 1, Stride = 1 << 30)] [Conv(1, 1, Stride = int.MaxValue)]
            public partial class Net { }
            """);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputProblems);
        var layers = LoadedNetwork.Layers(run, "Tests.Net");
        // 2^30, then 2^60 (shown as int.MaxValue), then 2^90, which wraps to 0 in 64-bit arithmetic unless saturated.
        Assert.Equal(new[] { 1 << 30, int.MaxValue, int.MaxValue, int.MaxValue }, layers.Select(l => l.EffectiveStride));
        Assert.All(layers, l => Assert.Equal(1, l.ReceptiveField));
    }
}
