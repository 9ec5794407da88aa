using CnnGen.Kernels;

namespace CnnGen.TrainProfile;

/// <summary>
/// Times, on the calling thread, the kernel calls the generated training code makes for each convolution of a
/// network over a batch of 64 images: forward (im2col, product, bias), backward-data (W^T x dY, col2im) and
/// backward-weights (dY x col^T over the columns forward kept, or rebuilt a group of images at a time, bias row sums
/// over each backward call). Each figure is the median of several timed
/// batches after warm-ups, in the thread's own CPU time (see <see cref="ThreadClock"/>).
/// </summary>
internal static class LayerProfile
{
    private const int Batch = 64;

    public static void Print(ProfiledNetwork network, int repeats, double peak)
    {
        Console.WriteLine($"{network.Name}, batch {Batch}, one thread, {network.ImagesPerBackward} image(s) per backward call, " +
                          (network.RebuildsColumns ? "columns rebuilt in backward: " : "columns kept by forward: ") +
                          $"ms per batch for one layer of each shape, GFLOP/s, share of {peak:0} GFLOP/s");
        Console.WriteLine("| layer | count | images per weight gradient | pass | ms | GFLOP/s | of peak |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        double total = 0;
        foreach (var shape in network.Convolutions)
        {
            var data = new LayerData(shape, network.ImagesPerBackward, network.RebuildsColumns);
            double flops = 2.0 * shape.MultiplyAdds * Batch;
            foreach (var (pass, run) in data.Passes())
            {
                double seconds = ThreadClock.Median(run, repeats);
                total += seconds * shape.Count;
                double gflops = flops / seconds / 1e9;
                Console.WriteLine($"| {shape.Name} | {shape.Count} | {data.ImagesPerWeightGradient} | {pass} | {seconds * 1e3:0.00} | {gflops:0.0} | {gflops / peak:P1} |");
            }
        }
        Console.WriteLine($"total of the convolutions (each times its count): {total * 1e3:0.0} ms per batch of {Batch}");
    }

    /// <summary>Random inputs, weights and output gradients of one layer for a whole batch, and its buffers.</summary>
    private sealed class LayerData
    {
        private readonly ConvShape _s;
        private readonly int _imagesPerBackward;
        private readonly bool _rebuildsColumns;
        private readonly float[] _input, _output, _outputGradient, _inputGradient, _weight, _bias, _weightGradient, _biasGradient, _columns, _columnGradient;

        public LayerData(ConvShape s, int imagesPerBackward, bool rebuildsColumns)
        {
            _s = s;
            _imagesPerBackward = imagesPerBackward;
            _rebuildsColumns = rebuildsColumns;
            ImagesPerWeightGradient = s.ImagesPerWeightGradient(imagesPerBackward, rebuildsColumns);
            var random = new Random(1);
            float[] Fill(long length) { var a = new float[length]; for (long i = 0; i < length; i++) a[i] = (float)(random.NextDouble() - 0.5); return a; }
            _input = Fill((long)s.InputLength * Batch);
            _output = new float[(long)s.OutputLength * Batch];
            _outputGradient = Fill((long)s.OutputLength * Batch);
            _inputGradient = new float[(long)s.InputLength * Batch];
            _weight = Fill((long)s.Filters * s.Depth);
            _bias = Fill(s.Filters);
            _weightGradient = new float[_weight.Length];
            _biasGradient = new float[s.Filters];
            // Every image's columns when forward keeps them; else one image's for forward, a group's for the weight gradient.
            _columns = new float[(long)s.ColumnLength * (rebuildsColumns ? ImagesPerWeightGradient : Batch)];
            _columnGradient = new float[s.ColumnLength];
        }

        public int ImagesPerWeightGradient { get; }

        public IEnumerable<(string Pass, Action Run)> Passes()
        {
            yield return ("forward", Forward);
            if (_s.InputGradient) yield return ("backward-data", BackwardData);
            yield return ("backward-weights", BackwardWeights);
        }

        private void Forward()
        {
            var s = _s;
            for (int b = 0; b < Batch; b++)
            {
                var col = _columns.AsSpan(_rebuildsColumns ? 0 : b * s.ColumnLength, s.ColumnLength);
                var y = _output.AsSpan(b * s.OutputLength, s.OutputLength);
                Im2Col.Pack(_input.AsSpan(b * s.InputLength, s.InputLength), col, s.Channels, s.Size, s.Size, ConvShape.Kernel, 1, 1, s.Size, s.Size);
                Gemm.Multiply(_weight, col, y, m: s.Filters, n: s.Positions, k: s.Depth);
                Elementwise.AddBias(y, _bias, s.Filters, s.Positions);
            }
        }

        private void BackwardData()
        {
            var s = _s;
            for (int b = 0; b < Batch; b++)
            {
                var dx = _inputGradient.AsSpan(b * s.InputLength, s.InputLength);
                Gemm.Multiply(_weight, _outputGradient.AsSpan(b * s.OutputLength, s.OutputLength), _columnGradient, m: s.Depth, n: s.Positions, k: s.Filters, transposeA: true);
                dx.Clear();
                Im2Col.Unpack(_columnGradient, dx, s.Channels, s.Size, s.Size, ConvShape.Kernel, 1, 1, s.Size, s.Size);
            }
        }

        private void BackwardWeights()
        {
            var s = _s;
            for (int call = 0; call < Batch; call += _imagesPerBackward)
            {
                int images = Math.Min(_imagesPerBackward, Batch - call);
                for (int first = call; first < call + images; first += ImagesPerWeightGradient)
                {
                    int count = Math.Min(ImagesPerWeightGradient, call + images - first);
                    var columns = _columns.AsSpan(_rebuildsColumns ? 0 : first * s.ColumnLength);
                    if (_rebuildsColumns)
                        for (int b = 0; b < count; b++)
                            Im2Col.Pack(_input.AsSpan((first + b) * s.InputLength, s.InputLength), columns.Slice(b * s.ColumnLength, s.ColumnLength),
                                s.Channels, s.Size, s.Size, ConvShape.Kernel, 1, 1, s.Size, s.Size);
                    Gemm.AccumulateTransposedB(_outputGradient.AsSpan(first * s.OutputLength), s.OutputLength, columns, s.ColumnLength, _weightGradient,
                        m: s.Filters, n: s.Depth, k: s.Positions, count: count);
                }
                Gemm.AccumulateTransposedB(_outputGradient.AsSpan(call * s.OutputLength), s.OutputLength, Ones.Get(s.Positions), 0, _biasGradient,
                    m: s.Filters, n: 1, k: s.Positions, count: images);
            }
        }
    }
}
