using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.EngineRace;

/// <summary>
/// The machine's peak for the race's "share of peak" column: a plain fused multiply-add loop on 16 independent
/// accumulators (enough to hide the FMA latency on both pipes), 512-bit where the machine has it, else 256-bit, on each of
/// <c>threads</c> threads at once. Returns the best of 5 runs of about 0.3 s, in GFLOP/s (2 FLOPs per lane per FMA).
/// </summary>
internal static class FmaPeak
{
    private const long Iterations = 50_000_000;

    /// <summary>Lanes of one FMA: 16 with AVX-512, else 8 (AVX2).</summary>
    private static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;

    public static double Measure(int threads)
    {
        Loop(1_000_000); // compiled optimised before the timed runs
        double best = 0;
        for (int run = 0; run < 5; run++)
        {
            var workers = new Thread[threads];
            using var start = new ManualResetEventSlim();
            for (int t = 0; t < threads; t++)
            {
                workers[t] = new Thread(() => { start.Wait(); Loop(Iterations); });
                workers[t].Start();
            }
            var clock = Stopwatch.StartNew();
            start.Set();
            foreach (var worker in workers) worker.Join();
            double seconds = clock.Elapsed.TotalSeconds;
            best = Math.Max(best, threads * Iterations * 16.0 * 2 * Lanes / seconds / 1e9);
        }
        return best;
    }

    private static float Loop(long iterations) => Vector512.IsHardwareAccelerated ? Loop512(iterations) : Loop256(iterations);

    /// <summary>The 256-bit loop keeps 12 accumulators, not 16: with its two operands, 16 took 18 of AVX2's 16 registers
    /// and spilled (57 GFLOP/s on a Zen 3 core whose matrix product reached 75).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long iterations)
    {
        Vector256<float> a = Vector256.Create(1.0001f), b = Vector256.Create(0.9999f);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
        Vector256<float> s6 = default, s7 = default, s8 = default, s9 = default, s10 = default, s11 = default;
        // 16 FMAs an iteration (the count Measure assumes): the first four accumulators take two each.
        for (long i = 0; i < iterations; i++)
        {
            s0 = Vector256.FusedMultiplyAdd(a, b, s0); s1 = Vector256.FusedMultiplyAdd(b, a, s1);
            s2 = Vector256.FusedMultiplyAdd(a, b, s2); s3 = Vector256.FusedMultiplyAdd(b, a, s3);
            s4 = Vector256.FusedMultiplyAdd(a, b, s4); s5 = Vector256.FusedMultiplyAdd(b, a, s5);
            s6 = Vector256.FusedMultiplyAdd(a, b, s6); s7 = Vector256.FusedMultiplyAdd(b, a, s7);
            s8 = Vector256.FusedMultiplyAdd(a, b, s8); s9 = Vector256.FusedMultiplyAdd(b, a, s9);
            s10 = Vector256.FusedMultiplyAdd(a, b, s10); s11 = Vector256.FusedMultiplyAdd(b, a, s11);
            s0 = Vector256.FusedMultiplyAdd(a, b, s0); s1 = Vector256.FusedMultiplyAdd(b, a, s1);
            s2 = Vector256.FusedMultiplyAdd(a, b, s2); s3 = Vector256.FusedMultiplyAdd(b, a, s3);
        }
        return (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11).GetElement(0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long iterations)
    {
        Vector512<float> a = Vector512.Create(1.0001f), b = Vector512.Create(0.9999f);
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        Vector512<float> s8 = default, s9 = default, s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default;
        for (long i = 0; i < iterations; i++)
        {
            s0 = Vector512.FusedMultiplyAdd(a, b, s0); s1 = Vector512.FusedMultiplyAdd(b, a, s1);
            s2 = Vector512.FusedMultiplyAdd(a, b, s2); s3 = Vector512.FusedMultiplyAdd(b, a, s3);
            s4 = Vector512.FusedMultiplyAdd(a, b, s4); s5 = Vector512.FusedMultiplyAdd(b, a, s5);
            s6 = Vector512.FusedMultiplyAdd(a, b, s6); s7 = Vector512.FusedMultiplyAdd(b, a, s7);
            s8 = Vector512.FusedMultiplyAdd(a, b, s8); s9 = Vector512.FusedMultiplyAdd(b, a, s9);
            s10 = Vector512.FusedMultiplyAdd(a, b, s10); s11 = Vector512.FusedMultiplyAdd(b, a, s11);
            s12 = Vector512.FusedMultiplyAdd(a, b, s12); s13 = Vector512.FusedMultiplyAdd(b, a, s13);
            s14 = Vector512.FusedMultiplyAdd(a, b, s14); s15 = Vector512.FusedMultiplyAdd(b, a, s15);
        }
        return (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11 + s12 + s13 + s14 + s15).GetElement(0);
    }
}
