namespace CnnGen.Generator.CodeFixes.Tests;

public class SamePaddingCodeFixTests
{
    private static Task Verify(string source, string fixedSource) =>
        new CodeFixTest<SamePaddingCodeFix>(source, fixedSource).RunAsync();

    [Fact]
    public Task CNN0012_WithDilation_SetsTheDilatedSpansPadding() => Verify("""
        using CnnGen;

        [Input(1, 16, 16)]
        [{|CNN0012:Conv(3, 4, Dilation = 2, Padding = 5)|}] [ReLU]
        [Dense(10)]
        public partial class Net { }
        """, """
        using CnnGen;

        [Input(1, 16, 16)]
        [Conv(3, 4, Dilation = 2, Padding = 2)] [ReLU]
        [Dense(10)]
        public partial class Net { }
        """);

    [Fact]
    public Task CNN0010_WithDilation_AddsTheDilatedSpansPadding() => Verify("""
        using CnnGen;

        [Input(1, 6, 6)]
        [{|CNN0010:Conv(3, 4, Dilation = 3)|}] [ReLU]
        [Dense(10)]
        public partial class Net { }
        """, """
        using CnnGen;

        [Input(1, 6, 6)]
        [Conv(3, 4, Dilation = 3, Padding = 3)] [ReLU]
        [Dense(10)]
        public partial class Net { }
        """);

    [Fact]
    public Task CNN0010_AddsThePaddingThatKeepsTheSize() => Verify("""
        using CnnGen;

        [Input(1, 12, 12)]
        [Conv(5, 6)] [ReLU] [MaxPool(2)]
        [{|CNN0010:Conv(5, 16)|}] [ReLU]
        [Dense(10)]
        public partial class Net { }
        """, """
        using CnnGen;

        [Input(1, 12, 12)]
        [Conv(5, 6)] [ReLU] [MaxPool(2)]
        [Conv(5, 16, Padding = 2)] [ReLU]
        [Dense(10)]
        public partial class Net { }
        """);

    [Fact]
    public Task CNN0010_RaisesAPaddingThatIsTooSmall() => Verify("""
        using CnnGen;

        [Input(2, 3, 9)]
        [{|CNN0010:Conv(7, 4, Padding = 1)|}]
        [Dense(3)]
        public partial class Net { }
        """, """
        using CnnGen;

        [Input(2, 3, 9)]
        [Conv(7, 4, Padding = 3)]
        [Dense(3)]
        public partial class Net { }
        """);

    [Fact]
    public Task CNN0012_LowersAPaddingThatReachesTheKernel() => Verify("""
        using CnnGen;

        [Input(1, 10, 10)]
        [{|CNN0012:Conv(3, 4, Stride = 1, Padding = 3, Name = "wide")|}] [ReLU]
        [Dense(10)]
        public partial class Net { }
        """, """
        using CnnGen;

        [Input(1, 10, 10)]
        [Conv(3, 4, Stride = 1, Padding = 1, Name = "wide")] [ReLU]
        [Dense(10)]
        public partial class Net { }
        """);

    [Fact]
    public Task CNN0012_ReadsAConstantKernel() => Verify("""
        using CnnGen;

        [Input(1, 10, 10)]
        [{|CNN0012:Conv(Sizes.Kernel, 4, Padding = 5)|}]
        [Dense(10)]
        public partial class Net { }

        static class Sizes { public const int Kernel = 5; }
        """, """
        using CnnGen;

        [Input(1, 10, 10)]
        [Conv(Sizes.Kernel, 4, Padding = 2)]
        [Dense(10)]
        public partial class Net { }

        static class Sizes { public const int Kernel = 5; }
        """);

    [Fact]
    public Task NoFixForAnEvenKernel() => Verify("""
        using CnnGen;

        [Input(1, 10, 10)]
        [{|CNN0012:Conv(4, 4, Padding = 4)|}]
        [Dense(10)]
        public partial class Net { }
        """, """
        using CnnGen;

        [Input(1, 10, 10)]
        [{|CNN0012:Conv(4, 4, Padding = 4)|}]
        [Dense(10)]
        public partial class Net { }
        """);

    [Fact]
    public Task NoFixForAPoolWindow() => Verify("""
        using CnnGen;

        [Input(3, 9, 9)]
        [Conv(3, 4, Stride = 3)]
        [{|CNN0010:AvgPool(5)|}]
        public partial class Net { }
        """, """
        using CnnGen;

        [Input(3, 9, 9)]
        [Conv(3, 4, Stride = 3)]
        [{|CNN0010:AvgPool(5)|}]
        public partial class Net { }
        """);
}
