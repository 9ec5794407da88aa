namespace CnnGen.Generator.CodeFixes;

/// <summary>The generator's diagnostics that have a fix here (the tests check them against the generator's catalog).</summary>
internal static class DiagnosticIds
{
    /// <summary>The network class is not partial.</summary>
    public const string NotPartial = "CNN0003";

    /// <summary>A kernel or pool window larger than its padded input.</summary>
    public const string KernelDoesNotFit = "CNN0010";

    /// <summary>Convolution padding that reaches the kernel size.</summary>
    public const string PaddingReachesKernel = "CNN0012";
}
