using System.Reflection;
using System.Runtime.CompilerServices;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The JIT inlines no method with more than 32 IL locals or 32 arguments, whatever its attributes say (its inliner's
/// limits); such a method marked <see cref="MethodImplOptions.AggressiveInlining"/> is called, and like any called method
/// starts in the unoptimised tier and runs there for its first calls. Every runtime method that asks to be inlined must
/// fit, and a larger kernel says <see cref="MethodImplOptions.AggressiveOptimization"/> instead, so it is compiled
/// optimised before its first call. (A register-blocked kernel of 40 locals asking to be inlined made the first dozen
/// one-image passes of a CIFAR VGG three times slower than the later ones.)
/// </summary>
public class KernelInliningTests
{
    private const int MaxInlineLocals = 32;
    private const int MaxInlineArguments = 32;

    private static IEnumerable<MethodBase> AskingToBeInlined() =>
        typeof(DirectConv).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance |
                                          BindingFlags.DeclaredOnly).Cast<MethodBase>()
                .Concat(t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly)))
            .Where(m => (m.MethodImplementationFlags & MethodImplAttributes.AggressiveInlining) != 0);

    [Fact]
    public void The_runtime_asks_to_inline_kernels()
    {
        // The check below must see the kernels' helpers, not an empty list.
        Assert.True(AskingToBeInlined().Count() >= 20);
    }

    [Fact]
    public void Every_method_asking_to_be_inlined_fits_the_inliners_limits()
    {
        var tooLarge = AskingToBeInlined()
            .Select(m => (Method: m, Locals: m.GetMethodBody()?.LocalVariables.Count ?? 0, Arguments: m.GetParameters().Length + (m.IsStatic ? 0 : 1)))
            .Where(m => m.Locals > MaxInlineLocals || m.Arguments > MaxInlineArguments)
            .Select(m => $"{m.Method.DeclaringType!.Name}.{m.Method.Name}: {m.Locals} locals, {m.Arguments} arguments")
            .ToList();
        Assert.True(tooLarge.Count == 0, "never inlined, so never optimised before its first calls: " + string.Join("; ", tooLarge));
    }

    [Fact]
    public void The_direct_convolutions_register_block_is_optimised_before_its_first_call()
    {
        var block = typeof(DirectConv).GetMethod("TwoRows1", BindingFlags.NonPublic | BindingFlags.Static)!;
        Assert.True(block.GetMethodBody()!.LocalVariables.Count > MaxInlineLocals);
        Assert.Equal(MethodImplAttributes.AggressiveOptimization, block.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization);
    }
}
