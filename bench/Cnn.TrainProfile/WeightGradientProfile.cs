using CnnGen.Kernels;

namespace CnnGen.TrainProfile;

/// <summary>
/// <c>wgrad</c>: the weight gradient of each CIFAR convolution whose output rows are 16 or 32 wide, over a batch of 64
/// images on one thread, as the generated backward pass computed it before (<see cref="Im2Col.Pack"/> of a group of
/// images, then one <see cref="Gemm.AccumulateTransposedB"/> over the group) against <see cref="DirectWeightGradient"/>
/// from the zero-padded images, over the same groups of images (as the generated code hands it them: the same bits,
/// checked here). The two alternate within each of <c>rounds</c> rounds; per round the median of
/// <c>repeats</c> batches in thread CPU time, then the median over rounds.
/// </summary>
internal static class WeightGradientProfile
{
    private const int Batch = 64;

    public static void Print(int rounds, int repeats, double peak)
    {
        Console.WriteLine($"Weight gradient of a batch of {Batch}, one thread, thread CPU time, median over {rounds} rounds of the median of {repeats}; " +
                          $"GFLOP/s and share of {peak:0} GFLOP/s");
        Console.WriteLine("| layer | images per call | im2col + product ms | GFLOP/s | of peak | direct ms | GFLOP/s | of peak | speed-up | same bits |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        var shapes = ProfiledNetwork.Vgg.Convolutions.Concat(ProfiledNetwork.ResNet.Convolutions)
            .Where(s => DirectWeightGradient.Supports(1, s.Size))
            .DistinctBy(s => (s.Channels, s.Size, s.Filters));
        foreach (var s in shapes)
        {
            var data = new Data(s);
            var times = new double[2][];
            for (int v = 0; v < 2; v++) times[v] = new double[rounds];
            Action[] runs = [data.Im2Col, data.Direct];
            for (int r = 0; r < rounds; r++)
                for (int v = 0; v < 2; v++)
                    times[v][r] = ThreadClock.Median(runs[v], repeats, warmUps: r == 0 ? 3 : 1);
            double[] medians = times.Select(t => { Array.Sort(t); return t[rounds / 2]; }).ToArray();
            double flops = 2.0 * s.MultiplyAdds * Batch;
            double im2col = flops / medians[0] / 1e9, direct = flops / medians[1] / 1e9;
            Console.WriteLine($"| {s.Channels}->{s.Filters} @{s.Size} | {data.Images} | {medians[0] * 1e3:0.00} | {im2col:0.0} | {im2col / peak:P0} | " +
                              $"{medians[1] * 1e3:0.00} | {direct:0.0} | {direct / peak:P0} | {medians[0] / medians[1]:0.00}x | {(data.SameBits() ? "yes" : "NO")} |");
        }
    }

    /// <summary>Random inputs and output gradients of one layer for a whole batch, and the buffers of both paths.</summary>
    private sealed class Data
    {
        private readonly ConvShape _s;
        private readonly float[] _input, _outputGradient, _weightGradient, _columns, _padded;

        public Data(ConvShape s)
        {
            _s = s;
            var random = new Random(1);
            float[] Fill(long length) { var a = new float[length]; for (long i = 0; i < length; i++) a[i] = (float)(random.NextDouble() - 0.5); return a; }
            _input = Fill((long)s.InputLength * Batch);
            _outputGradient = Fill((long)s.OutputLength * Batch);
            _weightGradient = new float[s.Filters * s.Depth];
            Images = s.ImagesPerWeightGradient(Batch, rebuildsColumns: true);
            _columns = new float[(long)s.ColumnLength * Images];
            _padded = new float[DirectWeightGradient.PaddedLength(Images, s.Channels, s.Size, s.Size, 1)];
        }

        /// <summary>Images per weight-gradient call: as many as the generator's rule puts in one rebuild of the columns.</summary>
        public int Images { get; }

        public void Im2Col()
        {
            var s = _s;
            for (int first = 0; first < Batch; first += Images)
            {
                int count = Math.Min(Images, Batch - first);
                for (int b = 0; b < count; b++)
                    Kernels.Im2Col.Pack(_input.AsSpan((first + b) * s.InputLength, s.InputLength), _columns.AsSpan(b * s.ColumnLength, s.ColumnLength),
                        s.Channels, s.Size, s.Size, ConvShape.Kernel, 1, 1, s.Size, s.Size);
                Gemm.AccumulateTransposedB(_outputGradient.AsSpan(first * s.OutputLength), s.OutputLength, _columns, s.ColumnLength, _weightGradient,
                    m: s.Filters, n: s.Depth, k: s.Positions, count: count);
            }
        }

        public void Direct()
        {
            var s = _s;
            for (int first = 0; first < Batch; first += Images)
            {
                int count = Math.Min(Images, Batch - first);
                DirectWeightGradient.Accumulate(_input.AsSpan(first * s.InputLength, count * s.InputLength), _outputGradient.AsSpan(first * s.OutputLength),
                    _weightGradient, _padded, count, s.Channels, s.Size, s.Size, s.Filters, ConvShape.Kernel, 1, s.Size, s.Size);
            }
        }

        /// <summary>Both paths over the same groups of images, from zero: the same bits.</summary>
        public bool SameBits()
        {
            Array.Clear(_weightGradient);
            Im2Col();
            var expected = (float[])_weightGradient.Clone();
            Array.Clear(_weightGradient);
            Direct();
            return expected.AsSpan().SequenceEqual(_weightGradient);
        }
    }
}
