using CnnGen.Kernels;

namespace CnnGen.TrainProfile;

/// <summary>
/// <c>inference</c>: times, on the calling thread, each 3x3 stride-1 convolution of the CIFAR VGG, the CIFAR ResNet and
/// ResNet-18 at 224 in inference, as the generated code runs it today (direct convolution for output rows up to 32 wide,
/// else im2col + matrix product + bias, one image at a time) against Winograd F(4x4, 3x3) over the same images in one
/// call, for one image and for a micro-batch. Both with bias and fused ReLU where direct convolution fuses it. Also the
/// weight transform and the cached weight check alone. Medians in thread CPU time (<see cref="ThreadClock"/>).
/// </summary>
internal static class InferenceProfile
{
    /// <summary>Shapes: name, channels, size (square, padding 1), filters.</summary>
    private static readonly (string Name, int Channels, int Size, int Filters)[] Shapes =
    [
        ("vgg 32->32 @32", 32, 32, 32),
        ("vgg 32->64 @16", 32, 16, 64),
        ("vgg 64->64 @16", 64, 16, 64),
        ("vgg 64->128 @8", 64, 8, 128),
        ("vgg 128->128 @8", 128, 8, 128),
        ("resnet 16->16 @32", 16, 32, 16),
        ("resnet 16->32 @16", 16, 16, 32),
        ("resnet 32->32 @16", 32, 16, 32),
        ("resnet 32->64 @8", 32, 8, 64),
        ("resnet 64->64 @8", 64, 8, 64),
        ("resnet18 64->64 @56", 64, 56, 64),
        ("resnet18 128->128 @28", 128, 28, 128),
        ("resnet18 256->256 @14", 256, 14, 256),
        ("resnet18 512->512 @7", 512, 7, 512),
        ("densenet121 128->32 @56", 128, 56, 32),
        ("densenet121 128->32 @28", 128, 28, 32),
        ("densenet121 128->32 @14", 128, 14, 32),
        ("densenet121 128->32 @7", 128, 7, 32),
        ("googlenet 16->32 @28", 16, 28, 32),
        ("other 16->32 @56", 16, 56, 32),
        ("other 32->16 @56", 32, 56, 16),
        ("other 32->32 @56", 32, 56, 32),
        ("other 16->16 @16", 16, 16, 16),
        ("other 16->16 @56", 16, 56, 16),
    ];

    /// <summary>Prints the table for the shapes whose name contains <paramref name="match"/> (every shape for "").</summary>
    public static void Print(int repeats, int[] batches, double peak, string match)
    {
        Console.WriteLine($"3x3 stride-1 padding-1 convolutions in inference, one thread: microseconds per image (thread CPU time, median of {repeats})");
        Console.WriteLine("| layer | images | today (kernel) | us/img | of peak | Winograd us/img | speed-up | im2col+GEMM us/img | weight transform us | weight check us |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (name, channels, size, filters) in Shapes.Where(s => s.Name.Contains(match, StringComparison.Ordinal)))
        foreach (int images in batches)
        {
            var data = new Data(channels, size, filters, images);
            double today = ThreadClock.Median(data.Today, repeats, warmUps: 2) / images, winograd = ThreadClock.Median(data.Winograd, repeats, warmUps: 2) / images;
            double product = ThreadClock.Median(data.Product, repeats, warmUps: 2) / images;
            double transform = ThreadClock.Median(data.TransformWeights, repeats, warmUps: 2), check = ThreadClock.Median(data.CheckWeights, repeats, warmUps: 2);
            double flops = 2.0 * filters * channels * 9 * size * size;
            Console.WriteLine($"| {name} | {images} | {(DirectConv.Supports(1, size) ? "direct" : "im2col+GEMM")} | {today * 1e6:0.0} | " +
                              $"{flops / today / 1e9 / peak:P1} | {winograd * 1e6:0.0} | {today / winograd:0.00}x | {product * 1e6:0.0} | {transform * 1e6:0.0} | {check * 1e6:0.0} |");
        }
    }

    private sealed class Data
    {
        private readonly int _channels, _size, _filters, _images;
        private readonly float[] _input, _output, _weight, _bias, _padded, _columns, _transformed, _winogradPadded, _scratch, _copy;

        public Data(int channels, int size, int filters, int images)
        {
            (_channels, _size, _filters, _images) = (channels, size, filters, images);
            var random = new Random(1);
            float[] Fill(long length) { var a = new float[length]; for (long i = 0; i < length; i++) a[i] = (float)(random.NextDouble() - 0.5); return a; }
            _input = Fill((long)channels * size * size * images);
            _output = new float[(long)filters * size * size * images];
            _weight = Fill(filters * channels * 9);
            _bias = Fill(filters);
            _padded = new float[DirectConv.PaddedLength(channels, size, size, 1)];
            _columns = new float[channels * 9 * size * size];
            _transformed = new float[Winograd3x3.TransformedWeightLength(filters, channels)];
            Winograd3x3.TransformWeights(_weight, _transformed, filters, channels, 0, filters);
            _winogradPadded = new float[Winograd3x3.PaddedLength(images, channels, size, size)];
            _scratch = new float[Winograd3x3.ScratchLength(images, channels, filters, size, size)];
            _copy = new float[Winograd3x3.WeightCopyLength(filters, channels)];
            Winograd3x3.PrepareWeights(_weight, _copy, _transformed, filters, channels);
        }

        public void Today()
        {
            int inLen = _channels * _size * _size, outLen = _filters * _size * _size, positions = _size * _size;
            for (int b = 0; b < _images; b++)
            {
                var x = _input.AsSpan(b * inLen, inLen);
                var y = _output.AsSpan(b * outLen, outLen);
                if (DirectConv.Supports(1, _size))
                    DirectConv.Forward(x, _weight, _bias, y, _padded, _channels, _size, _size, _filters, 3, 1, _size, _size, relu: true);
                else
                {
                    Im2Col.Pack(x, _columns, _channels, _size, _size, 3, 1, 1, _size, _size);
                    Gemm.Multiply(_weight, _columns, y, m: _filters, n: positions, k: _channels * 9);
                    Elementwise.AddBias(y, _bias, _filters, positions);
                }
            }
        }

        /// <summary>im2col and one product per image, bias and ReLU applied as it stores (what wide rows run).</summary>
        public void Product()
        {
            int inLen = _channels * _size * _size, outLen = _filters * _size * _size, positions = _size * _size;
            for (int b = 0; b < _images; b++)
            {
                Im2Col.Pack(_input.AsSpan(b * inLen, inLen), _columns, _channels, _size, _size, 3, 1, 1, _size, _size);
                Gemm.MultiplyBiasActivation(_weight, _columns, _output.AsSpan(b * outLen, outLen), _bias, m: _filters, n: positions, k: _channels * 9, FusedActivation.Relu);
            }
        }

        public void Winograd() =>
            Winograd3x3.Forward(_input, _images, _transformed, _bias, _output, _winogradPadded, _scratch,
                _channels, _size, _size, _filters, 1, _size, _size, relu: true);

        public void TransformWeights() => Winograd3x3.TransformWeights(_weight, _transformed, _filters, _channels, 0, _filters);

        public void CheckWeights() => Winograd3x3.PrepareWeights(_weight, _copy, _transformed, _filters, _channels);
    }
}
