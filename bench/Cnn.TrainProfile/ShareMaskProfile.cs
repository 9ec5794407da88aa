using System.Numerics.Tensors;
using CnnGen.Kernels;

namespace CnnGen.TrainProfile;

/// <summary>
/// <c>masks</c>: the backward pass of a residual block's output ReLU at the CIFAR ResNet's three sizes of a 64-image
/// step (16 x 32 x 32, 32 x 16 x 16, 64 x 8 x 8 per image): the next shortcut's share added in a pass of its own, then the
/// ReLU's mask (<c>TensorPrimitives.Add</c>, <see cref="Activations.ReluBackward"/>), against both in one pass
/// (<see cref="Activations.ReluBackwardAddingShare"/>). The caches are flushed before each call (64 MiB written), as in a
/// step, where these maps were last touched by layers long before; thread CPU time of the call alone, median of
/// <c>--repeats</c> calls per round, each round's two kernels in turn.
/// </summary>
internal static class ShareMaskProfile
{
    public static void Print(int rounds, int repeats)
    {
        var flush = new byte[64 << 20];
        Console.WriteLine($"A block's output ReLU backward with the next shortcut's share, 64 images, caches flushed (thread CPU time: median of {repeats} calls a round, {rounds} rounds)");
        Console.WriteLine("| map per image | share, then mask: us | one pass: us |");
        Console.WriteLine("|---|---|---|");
        foreach (var (channels, side) in new[] { (16, 32), (32, 16), (64, 8) })
        {
            int n = 64 * channels * side * side;
            var random = new Random(n);
            float[] y = new float[n], share = new float[n], start = new float[n], dy = new float[n];
            for (int i = 0; i < n; i++)
            {
                y[i] = Math.Max(0f, random.NextSingle() * 2 - 1); // a ReLU's output: zero about half the time
                share[i] = random.NextSingle() - 0.5f;
                start[i] = random.NextSingle() - 0.5f;
            }
            double Time(Action kernel)
            {
                var times = new double[repeats];
                for (int r = 0; r < repeats; r++)
                {
                    start.CopyTo(dy, 0);
                    flush.AsSpan().Fill((byte)r);
                    double begin = ThreadClock.Seconds();
                    kernel();
                    times[r] = ThreadClock.Seconds() - begin;
                }
                Array.Sort(times);
                return times[repeats / 2] * 1e6;
            }
            var twoPasses = new List<double>();
            var onePass = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                twoPasses.Add(Time(() => { TensorPrimitives.Add(dy, share, dy); Activations.ReluBackward(y, dy, dy); }));
                onePass.Add(Time(() => Activations.ReluBackwardAddingShare(y, dy, share)));
            }
            Console.WriteLine($"| {channels} x {side} x {side} | {Describe(twoPasses)} | {Describe(onePass)} |");
        }
    }

    private static string Describe(List<double> times)
    {
        times.Sort();
        return $"{times[times.Count / 2]:0} [{times[0]:0}-{times[^1]:0}]";
    }
}
