using CnnGen.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// Training-mode BatchNorm statistics over long rows (up to 96x96 maps) of channels whose mean is large against their
/// standard deviation, where a float sum of squares loses the variance (E[x^2] - mean^2 cancels): the mean, invstd,
/// unbiased running variance and the gradient sums must agree with a two-pass double reference. The sums are split
/// between two "workers" and added in worker order, as the generated code does.
/// </summary>
public class BatchNormStatisticsTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(96 * 96, 1.0, 0.01)]
    [InlineData(96 * 96, -3.0, 0.02)]
    [InlineData(47 * 47, 1.0, 0.01)] // a row that is not a multiple of the lanes
    [InlineData(112 * 112, 5.0, 0.01)]
    public void StatisticsOfALargeMeanSmallSpreadChannelMatchATwoPassDoubleReference(int spatial, double mean, double std)
    {
        const int batch = 4, channels = 3;
        var x = Values(batch * channels * spatial, seed: spatial, mean, std);
        long count = (long)batch * spatial;

        var sums = TotalOverTwoWorkers(batch, channels, spatial, 2 * channels,
            (b, n, part) => BatchNorm.AddSums(x.AsSpan(b * channels * spatial, n * channels * spatial), n, channels, spatial, part));
        var means = new float[channels];
        var invstd = new float[channels];
        BatchNorm.MeanAndInvStd(sums, count, 1e-5f, means, invstd);
        var runningMean = new float[channels];
        var runningVar = Enumerable.Repeat(1f, channels).ToArray();
        float tracked = 0;
        BatchNorm.UpdateRunning(sums, count, 0.1f, runningMean, runningVar, ref tracked);

        for (int c = 0; c < channels; c++)
        {
            var (m, variance) = TwoPass(x, batch, channels, spatial, c);
            double wantInvStd = 1 / Math.Sqrt(variance + 1e-5);
            double wantRunningVar = 0.9 + 0.1 * variance * count / (count - 1);
            output.WriteLine($"channel {c}: mean {m:G6} variance {variance:E3}; invstd {invstd[c]:G9} (exact {wantInvStd:G9}, " +
                $"{Math.Abs(invstd[c] - wantInvStd) / wantInvStd:E1} apart)");
            Assert.True(Math.Abs(means[c] - m) <= 1e-7 * Math.Abs(m), $"channel {c}: mean {means[c]}, exact {m}");
            Assert.True(Math.Abs(invstd[c] - wantInvStd) <= 1e-6 * wantInvStd, $"channel {c}: invstd {invstd[c]:G9}, exact {wantInvStd:G9}");
            Assert.True(Math.Abs(runningVar[c] - wantRunningVar) <= 1e-6 * wantRunningVar, $"channel {c}: running_var {runningVar[c]:G9}, exact {wantRunningVar:G9}");
            Assert.True(Math.Abs(runningMean[c] - 0.1 * m) <= 1e-7 * Math.Abs(0.1 * m), $"channel {c}: running_mean {runningMean[c]}, exact {0.1 * m}");
        }
        Assert.Equal(1f, tracked);
    }

    [Theory]
    [InlineData(96 * 96)]
    [InlineData(47 * 47)]
    public void GradientSumsOfLongRowsMatchADoubleReference(int spatial)
    {
        const int batch = 4, channels = 2;
        // dy with a large common part (its sum is large) and x far from zero, centred on a float mean.
        var dy = Values(batch * channels * spatial, seed: 3 * spatial, mean: 0.5, std: 0.01);
        var x = Values(batch * channels * spatial, seed: 5 * spatial, mean: 2.0, std: 0.01);
        var means = new float[channels];
        for (int c = 0; c < channels; c++) means[c] = (float)TwoPass(x, batch, channels, spatial, c).Mean;

        var sums = TotalOverTwoWorkers(batch, channels, spatial, 2 * channels, (b, n, part) =>
        {
            int at = b * channels * spatial, length = n * channels * spatial;
            BatchNorm.AddGradientSums(dy.AsSpan(at, length), x.AsSpan(at, length), means, n, channels, spatial, part);
        });

        for (int c = 0; c < channels; c++)
        {
            double sum = 0, products = 0, magnitude = 0;
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < spatial; i++)
                {
                    int at = (b * channels + c) * spatial + i;
                    sum += dy[at];
                    products += (double)dy[at] * ((double)x[at] - means[c]);
                    magnitude += Math.Abs((double)dy[at] * ((double)x[at] - means[c]));
                }
            output.WriteLine($"channel {c}: sum dy {sums[c]:G12} (exact {sum:G12}); sum dy (x - mean) {sums[channels + c]:G9} (exact {products:G9})");
            Assert.True(Math.Abs(sums[c] - sum) <= 1e-12 * Math.Abs(sum), $"channel {c}: sum dy {sums[c]:G17}, exact {sum:G17}");
            Assert.True(Math.Abs(sums[channels + c] - products) <= 1e-12 * magnitude, $"channel {c}: sum dy (x - mean) {sums[channels + c]:G17}, exact {products:G17}");
        }
    }

    /// <summary>The sums give exactly the bits of their portable order, written here one scalar at a time: each float
    /// widened to double, added into 8 double lanes (the lanes in turn), the lanes added in order, then the rest of the row;
    /// rows of one channel added image by image. Whatever SIMD width the machine runs, the bits must be these.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(61)]
    [InlineData(96 * 96)]
    public void SumsAreThoseOfThePortableOrderBitForBit(int spatial)
    {
        const int batch = 3, channels = 2;
        var x = Values(batch * channels * spatial, seed: 7 * spatial, mean: 0.3, std: 1.0);
        var dy = Values(batch * channels * spatial, seed: 11 * spatial, mean: -0.1, std: 0.5);
        float[] means = [0.25f, -1.5f];
        var sums = new double[2 * channels];
        BatchNorm.AddSums(x, batch, channels, spatial, sums);
        var gradientSums = new double[2 * channels];
        BatchNorm.AddGradientSums(dy, x, means, batch, channels, spatial, gradientSums);

        var wantSums = new double[2 * channels];
        var wantGradientSums = new double[2 * channels];
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
            {
                int at = (b * channels + c) * spatial;
                var (sum, squares) = PortableRowSums(x.AsSpan(at, spatial), x.AsSpan(at, spatial), 0, squares: true);
                wantSums[c] += sum;
                wantSums[channels + c] += squares;
                var (sumDy, products) = PortableRowSums(dy.AsSpan(at, spatial), x.AsSpan(at, spatial), means[c], squares: false);
                wantGradientSums[c] += sumDy;
                wantGradientSums[channels + c] += products;
            }
        Assert.Equal(wantSums, sums);
        Assert.Equal(wantGradientSums, gradientSums);
    }

    private static (double Sum, double Second) PortableRowSums(ReadOnlySpan<float> x, ReadOnlySpan<float> other, float centre, bool squares)
    {
        const int lanes = 8;
        var sumLanes = new double[lanes];
        var secondLanes = new double[lanes];
        int i = 0;
        for (; i + lanes <= x.Length; i += lanes)
            for (int j = 0; j < lanes; j++)
            {
                double v = x[i + j];
                sumLanes[j] += v;
                secondLanes[j] += v * (squares ? v : (double)other[i + j] - centre);
            }
        double sum = 0, second = 0;
        for (int j = 0; j < lanes; j++)
        {
            sum += sumLanes[j];
            second += secondLanes[j];
        }
        for (; i < x.Length; i++)
        {
            double v = x[i];
            sum += v;
            second += v * (squares ? v : (double)other[i] - centre);
        }
        return (sum, second);
    }

    /// <summary>Each of two workers adds the sums of its half of the batch into its own buffer; the total adds them in
    /// worker order.</summary>
    private static double[] TotalOverTwoWorkers(int batch, int channels, int spatial, int length, Action<int, int, double[]> add)
    {
        int first = batch / 2;
        var worker0 = new double[length];
        var worker1 = new double[length];
        add(0, first, worker0);
        add(first, batch - first, worker1);
        var total = new double[length];
        for (int i = 0; i < length; i++) total[i] = worker0[i] + worker1[i];
        return total;
    }

    /// <summary>The exact mean and biased variance of channel <paramref name="c"/>, in two passes over doubles.</summary>
    private static (double Mean, double Variance) TwoPass(float[] x, int batch, int channels, int spatial, int c)
    {
        double sum = 0;
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < spatial; i++) sum += x[(b * channels + c) * spatial + i];
        double mean = sum / ((long)batch * spatial), squares = 0;
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < spatial; i++)
            {
                double d = x[(b * channels + c) * spatial + i] - mean;
                squares += d * d;
            }
        return (mean, squares / ((long)batch * spatial));
    }

    /// <summary>Normal values (Box-Muller) of the given mean and standard deviation, rounded to float.</summary>
    private static float[] Values(int length, int seed, double mean, double std)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            double u = 1 - random.NextDouble(), v = random.NextDouble();
            values[i] = (float)(mean + std * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }
        return values;
    }
}
