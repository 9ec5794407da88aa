namespace CnnGen.Generator.CodeFixes.Tests;

public class MakePartialCodeFixTests
{
    private static Task Verify(string source, string fixedSource) =>
        new CodeFixTest<MakePartialCodeFix>(source, fixedSource).RunAsync();

    [Fact]
    public Task AddsPartialAfterTheOtherModifiers() => Verify("""
        using CnnGen;

        [Input(1, 8, 8)] [Dense(10)] [Softmax]
        public sealed class {|CNN0003:Net|} { }
        """, """
        using CnnGen;

        [Input(1, 8, 8)] [Dense(10)] [Softmax]
        public sealed partial class Net { }
        """);

    [Fact]
    public Task AddsPartialToAClassWithoutModifiers() => Verify("""
        using CnnGen;

        [Input(1, 8, 8)]
        [Dense(10)]
        class {|CNN0003:Net|}
        {
        }
        """, """
        using CnnGen;

        [Input(1, 8, 8)]
        [Dense(10)]
        partial class Net
        {
        }
        """);

    [Fact]
    public Task AddsPartialInsideANamespace() => Verify("""
        using CnnGen;

        namespace Models;

        /// <summary>A small network.</summary>
        [Input(3, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Dense(2)]
        internal class {|CNN0003:Tiny|} { }
        """, """
        using CnnGen;

        namespace Models;

        /// <summary>A small network.</summary>
        [Input(3, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Dense(2)]
        internal partial class Tiny { }
        """);

    [Fact]
    public Task AddsPartialToTheOtherDeclarationThatLacksIt() => Verify("""
        using CnnGen;

        [Input(1, 8, 8)] [Dense(10)]
        public partial class {|CNN0003:Net|} { }

        public class {|CS0260:Net|} { }
        """, """
        using CnnGen;

        [Input(1, 8, 8)] [Dense(10)]
        public partial class Net { }

        public partial class Net { }
        """);
}
