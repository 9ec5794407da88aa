using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;

namespace CnnGen.Generator.Tests;

/// <summary>Diagnostics about the network class and its [Input]: CNN0001-CNN0006 and CNN0016.</summary>
public class DeclarationDiagnosticTests
{
    [Fact]
    public void CNN0001_LayersWithoutInput() =>
        Error("""
            [Conv(5, 6)] [ReLU]
            [Dense(10)]
            public partial class [|Net|] { }
            """, "CNN0001", "'Net' declares layers but no [Input(channels, height, width)]");

    [Fact]
    public void CNN0001_ReportedOnceForSeveralLayerKinds()
    {
        var run = TestDriver.Run(Header + "[Conv(3, 4)] [Conv(3, 4)] [MaxPool(2)] [Dense(3)] [Softmax] public partial class Net { }");
        Assert.Equal(new[] { "CNN0001" }, run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void CNN0002_TwoInputs()
    {
        var d = Error("""
            [Input(1, 28, 28)]
            [[|Input(1, 32, 32)|]]
            [Dense(10)]
            public partial class Net { }
            """, "CNN0002", "'Net' has more than one [Input]; the first one is at line 3");
        Assert.Equal(3, d.Location.GetLineSpan().StartLinePosition.Line); // 0-based: the second [Input] is on line 4
    }

    [Fact]
    public void CNN0003_NotPartial() =>
        Error("""
            [Input(1, 28, 28)] [Dense(10)]
            public class [|Net|] { }
            """, "CNN0003", "Network class 'Net' must be declared partial");

    [Fact]
    public void CNN0003_OneDeclarationOfSeveralNotPartial() =>
        Error("""
            [Input(1, 28, 28)] [Dense(10)]
            public partial class [|Net|] { }
            public class Net { }
            """, "CNN0003", "'Net' must be declared partial");

    [Fact]
    public void CNN0004_Record() =>
        Error("""
            [Input(1, 28, 28)] [Dense(10)]
            public partial record [|Net|] { }
            """, "CNN0004", "Network class 'Net' is a record; declare the network on a class");

    [Fact]
    public void CNN0004_NestedInGenericType() =>
        Error("""
            public partial class Outer<T>
            {
                [Input(1, 28, 28)] [Dense(10)]
                public partial class [|Net|] { }
            }
            """, "CNN0004", "Network class 'Net' is nested in the generic type 'Outer'");

    [Fact]
    public void CNN0004_GenericClass() =>
        Error("""
            [Input(1, 28, 28)] [Dense(10)]
            public partial class [|Net|]<T> { }
            """, "CNN0004", "Network class 'Net' is generic");

    [Fact]
    public void CNN0004_NestedInNonPartialClass() =>
        Error("""
            public class Outer
            {
                [Input(1, 28, 28)] [Dense(10)]
                public partial class [|Net|] { }
            }
            """, "CNN0004", "Network class 'Net' is nested in 'Outer', which is not partial");

    [Fact]
    public void CNN0004_StaticClass() =>
        Error("""
            [Input(1, 28, 28)] [Dense(10)]
            public static partial class [|Net|] { }
            """, "CNN0004", "Network class 'Net' is static");

    [Fact]
    public void CNN0005_LayersOnTwoPartialDeclarations() =>
        Error("""
            [Input(1, 28, 28)] [Dense(10)]
            public partial class Net { }

            [[|ReLU|]]
            public partial class Net { }
            """, "CNN0005", "'Net' has layer attributes on more than one partial declaration");

    [Fact]
    public void CNN0006_StringWhereAnIntIsExpected() =>
        Reports("""
            [Input(1, 28, 28)]
            [[|Conv("a", 1)|]]
            public partial class Net { }
            """, "CNN0006", DiagnosticSeverity.Error, new[] { "[Conv] argument could not be read as a constant" });

    [Fact]
    public void CNN0006_DoubleWhereAnIntIsExpected() =>
        Error("""
            [Input(1, 28, 28)]
            [[|Dense(1.5)|]]
            public partial class Net { }
            """, "CNN0006", "[Dense] argument could not be read");

    [Fact]
    public void CNN0006_BadInputArgument_DoesNotClaimTheInputIsMissing() =>
        Error("""
            [[|Input(1, "28", 28)|]]
            [Dense(10)]
            public partial class Net { }
            """, "CNN0006", "[Input] argument could not be read");

    [Fact]
    public void NonConstantArgument_IsLeftToTheCompiler_WithoutCrashing()
    {
        // C# rejects it with CS0182; the generator sees an erroneous argument and reports CNN0006 on the attribute.
        var m = Markup.Parse(Header + """
            [Input(1, 28, 28)]
            [[|Dense(Net.Units)|]]
            public partial class Net { public static int Units = 10; }
            """);
        var run = TestDriver.Run(m.Source);
        Assert.Null(run.Result.Exception);
        Assert.Contains(run.Input.GetDiagnostics(), d => d.Id == "CS0182");
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id is "CNN9999" or "CS8785");
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("CNN0006", d.Id);
        Assert.Equal(m.Span, d.Location.SourceSpan);
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void CNN0016_NoLayers() =>
        Error("""
            [Input(1, 28, 28)]
            public partial class [|Net|] { }
            """, "CNN0016", "'Net' has an [Input] but no layer");
}
