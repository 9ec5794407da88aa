using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The weight gradient of a 3x3 stride-1 convolution through Winograd F(4x4, 3x3) (<see cref="WinogradWeightGradient"/>):
/// against a plain sum in double over every image and output position, for paddings 0 to 2, maps whose tiles the edges
/// cut, channel and filter counts in and out of 16-lane groups, several images per call and calls into the same sums;
/// it adds to the gradient.
/// </summary>
public class WinogradWeightGradientTests
{
    /// <summary>Largest |Winograd - plain sum| allowed, relative to the largest sum of |terms| of the layer's gradient.</summary>
    private const double Tolerance = 1e-5;

    [Fact]
    public void AddsThePlainSumOverImagesAndPositionsForEveryPaddingAndTiling()
    {
        var random = new Random(37);
        int[] counts = [1, 3, 16, 20, 32, 48];
        double worst = 0;
        int groupsSmallerThanCalls = 0;
        for (int trial = 0; trial < 60; trial++)
        {
            int channels = counts[random.Next(counts.Length)], filters = counts[random.Next(counts.Length)], padding = trial % 3;
            int height = random.Next(3, 19), width = random.Next(3, 19), images = random.Next(1, 4);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            float[] input = Random(random, images * channels * height * width), dout = Random(random, images * filters * outHeight * outWidth);
            float[] start = Random(random, filters * channels * 9), dweight = (float[])start.Clone();

            // Image by image into the same sums, as the backward calls of a chunk add theirs, then transformed back once.
            var sumsOfTiles = new float[WinogradWeightGradient.SumsLength(channels, filters)];
            // Working space for one group of images only: the call copies them a group at a time.
            int group = Math.Min(images, WinogradWeightGradient.ImagesPerGroup(channels, filters, outHeight, outWidth));
            var padded = new float[WinogradWeightGradient.PaddedLength(group, channels, outHeight, outWidth)];
            var gradientTiles = new float[WinogradWeightGradient.GradientTilesLength(group, filters, outHeight, outWidth)];
            groupsSmallerThanCalls += group < images ? 1 : 0;
            var pending = new float[WinogradWeightGradient.PendingLength(channels, filters)];
            int split = random.Next(0, images + 1), inputImage = channels * height * width, doutImage = filters * outHeight * outWidth;
            if (split > 0)
                WinogradWeightGradient.AddTiles(input.AsSpan(0, split * inputImage), dout.AsSpan(0, split * doutImage), split, sumsOfTiles, pending, padded, gradientTiles,
                    channels, height, width, filters, padding, outHeight, outWidth);
            if (split < images)
                WinogradWeightGradient.AddTiles(input.AsSpan(split * inputImage), dout.AsSpan(split * doutImage), images - split, sumsOfTiles, pending, padded, gradientTiles,
                    channels, height, width, filters, padding, outHeight, outWidth);
            WinogradWeightGradient.AddFilterGradients(sumsOfTiles, pending, dweight, channels, filters);
            Assert.Equal(0f, sumsOfTiles[^1]); // no tiles left pending

            var sums = new double[dweight.Length];
            double largest = 0;
            for (int f = 0; f < filters; f++)
            for (int c = 0; c < channels; c++)
            for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
            {
                double sum = 0, magnitude = 0;
                for (int b = 0; b < images; b++)
                for (int y = 0; y < outHeight; y++)
                for (int x = 0; x < outWidth; x++)
                {
                    int iy = y + ky - padding, ix = x + kx - padding;
                    if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                    double term = (double)dout[((b * filters + f) * outHeight + y) * outWidth + x] * input[((b * channels + c) * height + iy) * width + ix];
                    sum += term;
                    magnitude += Math.Abs(term);
                }
                sums[((f * channels + c) * 3 + ky) * 3 + kx] = sum;
                largest = Math.Max(largest, magnitude);
            }
            for (int i = 0; i < sums.Length; i++)
            {
                double error = Math.Abs(dweight[i] - start[i] - sums[i]);
                worst = Math.Max(worst, error / largest);
                Assert.True(error <= Tolerance * largest + 1e-6 * Math.Abs(start[i]),
                    $"C{channels} F{filters} P{padding} {height}x{width} x{images}: dweight[{i}] grew by {dweight[i] - start[i]:R}, the plain sum is {sums[i]:R}");
            }
        }
        Assert.True(worst > 0, "every sum exact: the check compares nothing");
        Assert.True(groupsSmallerThanCalls > 0, "no call copied its images in more than one group");
    }

    /// <summary>
    /// A training step has already laid out both operands: the forward pass copied the inputs channel-last with zero
    /// padding, the input gradient the output gradients (padded by <c>2 - padding</c>). Reading those copies instead of
    /// making its own gives the same sums, bit for bit, whichever of the two is read, for paddings 0 to 2, maps whose tiles
    /// the edges cut, and calls of more images than one group.
    /// </summary>
    [Fact]
    public void ReadingTheForwardAndInputGradientCopiesGivesTheSameBits()
    {
        var random = new Random(41);
        int[] counts = [1, 3, 16, 20, 32];
        int compared = 0, groupsSmallerThanCalls = 0;
        for (int trial = 0; trial < 48; trial++)
        {
            int channels = counts[random.Next(counts.Length)], filters = counts[random.Next(counts.Length)], padding = trial % 3;
            // Every fourth map large enough that a group (about one block of tiles) holds fewer images than the call.
            int most = trial % 4 == 3 ? 36 : 19, height = random.Next(3, most), width = random.Next(3, most), images = random.Next(1, 6);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            if (!WinogradWeightGradient.ReadsInputGradientCopy(height, width, padding, outHeight, outWidth)) continue;
            float[] input = Random(random, images * channels * height * width), dout = Random(random, images * filters * outHeight * outWidth);
            int group = Math.Min(images, WinogradWeightGradient.ImagesPerGroup(channels, filters, outHeight, outWidth));
            groupsSmallerThanCalls += group < images ? 1 : 0;

            float[] Sums(bool inputLaidOut, bool gradientLaidOut)
            {
                var sums = new float[WinogradWeightGradient.SumsLength(channels, filters)];
                var pending = new float[WinogradWeightGradient.PendingLength(channels, filters)];
                float[] padded, gradientPadded = [];
                if (inputLaidOut)
                {
                    padded = new float[Winograd3x3.PaddedLength(images, channels, outHeight, outWidth)];
                    Winograd3x3.PadChannelLast(input, images, padded, channels, height, width, padding, outHeight, outWidth);
                }
                else padded = new float[WinogradWeightGradient.PaddedLength(group, channels, outHeight, outWidth)];
                if (gradientLaidOut)
                {
                    // The input gradient of this layer for any weights: it leaves its channel-last copy of dout behind.
                    var transformed = new float[WinogradInputGradient.TransformedWeightLength(filters, channels)];
                    WinogradInputGradient.TransformWeights(Random(random, filters * channels * 9), new float[filters * channels * 9], transformed, filters, channels);
                    gradientPadded = new float[WinogradInputGradient.PaddedLength(images, filters, height, width)];
                    WinogradInputGradient.Images(dout, images, transformed, new float[images * channels * height * width], gradientPadded,
                        new float[WinogradInputGradient.ScratchLength(images, channels, filters, height, width)], channels, height, width, filters, padding, outHeight, outWidth);
                }
                var gradientTiles = gradientLaidOut ? [] : new float[WinogradWeightGradient.GradientTilesLength(group, filters, outHeight, outWidth)];
                // What is read from a copy is not passed at all, so reading the original instead could not pass.
                WinogradWeightGradient.AddTiles(inputLaidOut ? [] : input, gradientLaidOut ? [] : dout, images, sums, pending, padded, gradientTiles,
                    channels, height, width, filters, padding, outHeight, outWidth, inputLaidOut, gradientPadded);
                var dweight = new float[filters * channels * 9];
                WinogradWeightGradient.AddFilterGradients(sums, pending, dweight, channels, filters);
                return [.. sums, .. dweight];
            }

            var own = Sums(false, false);
            Assert.Contains(own, v => v != 0);
            foreach (var (inputLaidOut, gradientLaidOut) in new[] { (true, false), (false, true), (true, true) })
            {
                var read = Sums(inputLaidOut, gradientLaidOut);
                for (int i = 0; i < own.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(own[i]) == BitConverter.SingleToInt32Bits(read[i]),
                        $"C{channels} F{filters} P{padding} {height}x{width} x{images}, input {(inputLaidOut ? "read" : "copied")}, gradient {(gradientLaidOut ? "read" : "copied")}: " +
                        $"value {i} is {read[i]:R}, copying gives {own[i]:R}");
                compared++;
            }
        }
        Assert.True(compared >= 90, $"only {compared} comparisons");
        Assert.True(groupsSmallerThanCalls > 0, "no call read its images in more than one group");
    }

    [Fact]
    public void RefusesAnInputGradientCopyThatDoesNotHoldWholeTilesOrIsTooShort()
    {
        // Padding 2 of a 3x3 input: the output gradient is 5x5, two tiles of 4 a side (8 rows), but the input gradient's
        // copy (dout padded by 0, in the tiles of the 3x3 input) is 6 a side.
        Assert.False(WinogradWeightGradient.ReadsInputGradientCopy(3, 3, 2, 5, 5));
        Assert.True(WinogradWeightGradient.ReadsInputGradientCopy(3, 3, 1, 3, 3));
        Assert.True(WinogradWeightGradient.ReadsInputGradientCopy(5, 7, 0, 3, 5));
        var none = new float[1 << 16];
        var error = Assert.Throws<ArgumentException>(() => WinogradWeightGradient.AddTiles(none, none, 1, none, none, none, none,
            channels: 2, height: 3, width: 3, filters: 2, padding: 2, outHeight: 5, outWidth: 5, gradientPadded: none));
        Assert.Contains("does not hold whole 4x4 tiles", error.Message, StringComparison.Ordinal);
        var tooShort = Assert.Throws<ArgumentException>(() => WinogradWeightGradient.AddTiles(none, none, 2, none, none, none, none,
            channels: 2, height: 6, width: 6, filters: 2, padding: 1, outHeight: 6, outWidth: 6,
            gradientPadded: new float[WinogradInputGradient.PaddedLength(1, 2, 6, 6)]));
        Assert.Contains("too short", tooShort.Message, StringComparison.Ordinal);
        var inputTooShort = Assert.Throws<ArgumentException>(() => WinogradWeightGradient.AddTiles(none, none, 2, none, none,
            new float[Winograd3x3.PaddedLength(1, 2, 6, 6)], none, channels: 2, height: 6, width: 6, filters: 2, padding: 1, outHeight: 6, outWidth: 6, inputLaidOut: true));
        Assert.Contains("too short", inputTooShort.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsAnOutputSizeThatIsNotTheConvolutionsAndShortOrInconsistentSums()
    {
        var none = new float[1 << 18];
        var error = Assert.Throws<ArgumentException>(() => WinogradWeightGradient.AddTiles(none, none, 1, none, none, none, none,
            channels: 2, height: 6, width: 6, filters: 2, padding: 1, outHeight: 6, outWidth: 5));
        Assert.Contains("gives 6x6, not 6x5", error.Message, StringComparison.Ordinal);
        var shortSums = Assert.Throws<ArgumentException>(() => WinogradWeightGradient.AddFilterGradients(new float[36 * 4], none, none, channels: 2, filters: 2));
        Assert.Contains("too short", shortSums.Message, StringComparison.Ordinal);
        // A pending count that no call could have left (the sums' last value) is refused, not trusted as a size.
        var sums = new float[WinogradWeightGradient.SumsLength(2, 2)];
        sums[^1] = 1e9f;
        var badCount = Assert.Throws<ArgumentException>(() => WinogradWeightGradient.AddFilterGradients(sums, none, none, channels: 2, filters: 2));
        Assert.Contains("not a count of pending tiles", badCount.Message, StringComparison.Ordinal);
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
