using CnnGen.Generator.Diagnostics;

namespace CnnGen.Generator.CodeFixes.Tests;

/// <summary>The fixes answer the generator's diagnostics: their IDs are the catalog's.</summary>
public class DiagnosticIdsTests
{
    [Fact]
    public void TheFixedIdsAreTheCatalogs()
    {
        Assert.Equal(DiagnosticIds.NotPartial, DiagnosticDescriptors.NotPartial.Id);
        Assert.Equal(DiagnosticIds.KernelDoesNotFit, DiagnosticDescriptors.KernelDoesNotFit.Id);
        Assert.Equal(DiagnosticIds.PaddingReachesKernel, DiagnosticDescriptors.PaddingReachesKernel.Id);
    }

    [Fact]
    public void EveryFixAnswersOnlyItsOwnIds()
    {
        Assert.Equal(["CNN0003"], new MakePartialCodeFix().FixableDiagnosticIds.ToArray());
        Assert.Equal(["CNN0010", "CNN0012"], new SamePaddingCodeFix().FixableDiagnosticIds.ToArray());
    }
}
