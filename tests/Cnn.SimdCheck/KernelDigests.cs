using CnnGen.Initialization;
using CnnGen.Kernels;

namespace CnnGen.SimdCheck;

/// <summary>Each kernel run on its own, over sizes that cover every vector path and remainder, one digest per kernel.</summary>
internal static class KernelDigests
{
    public static IEnumerable<(string Name, float[] Values)> All()
    {
        var random = new NormalRandom(42);
        float[] Random(int n) { var v = new float[n]; random.FillNormal(v, 1.0); return v; }
        int[] sizes = [1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 40];

        var multiply = new List<float>();
        var transposedA = new List<float>();
        var accumulate = new List<float>();
        var transposedB = new List<float>();
        foreach (int m in new[] { 1, 3, 4, 5, 9 })
        foreach (int n in sizes)
        foreach (int k in new[] { 1, 5, 16, 19 })
        {
            var a = Random(m * k); var b = Random(k * n); var c = Random(m * n);
            var r = new float[m * n];
            Gemm.Multiply(a, b, r, m, n, k);
            multiply.AddRange(r);
            Gemm.Multiply(a, b, r, m, n, k, transposeA: true);
            transposedA.AddRange(r);
            Gemm.Multiply(a, b, c, m, n, k, transposeA: true, accumulate: true);
            accumulate.AddRange(c);
            var bt = Random(n * k);
            Gemm.MultiplyTransposedB(a, bt, r, m, n, k, accumulate: false);
            transposedB.AddRange(r);
        }
        yield return ("Gemm.Multiply", multiply.ToArray());
        yield return ("Gemm.Multiply(transposeA)", transposedA.ToArray());
        yield return ("Gemm.Multiply(transposeA, accumulate)", accumulate.ToArray());
        yield return ("Gemm.MultiplyTransposedB", transposedB.ToArray());

        // With a bias and a fused activation, on sizes that take the packed panels, the 4-row blocks and both depth blocks.
        var fused = new List<float>();
        foreach (var activation in new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6 })
        foreach (var (m, n, k) in new[] { (1, 17, 3), (5, 40, 19), (9, 70, 16), (16, 64, 300), (13, 33, 5) })
        {
            var r = new float[m * n];
            var a = Random(m * k); var b = Random(k * n); var rowBias = Random(m);
            for (int i = 0; i < rowBias.Length; i++) rowBias[i] *= 4f; // some sums pass 6, some stay below 0
            Gemm.MultiplyBiasActivation(a, b, r, rowBias, m, n, k, activation);
            fused.AddRange(r);
        }
        yield return ("Gemm.MultiplyBiasActivation", fused.ToArray());

        // Products past one block of 256 columns and 256 rows of B (the AVX2 path's blocks), a block of B's columns read in
        // place, and a B in the panel layout, 32 columns and a narrower last panel.
        var gemmBlocks = new List<float>();
        foreach (var (m, n, k) in new[] { (7, 300, 520), (13, 257, 256), (2, 49, 4608 / 8) })
        {
            var a = Random(m * k); var b = Random(k * n); var c = Random(m * n);
            Gemm.Multiply(a, b, c, m, n, k, transposeA: true, accumulate: true);
            gemmBlocks.AddRange(c);
            var part = new float[m * (n - 9)];
            Gemm.MultiplyColumnsOf(a, b.AsSpan(5), n, part, m, n - 9, k);
            gemmBlocks.AddRange(part);
        }
        foreach (var (m, n, k) in new[] { (5, 80, 40), (9, 128, 300) })
        {
            var a = Random(m * k); var b = Random(k * n); var r = new float[m * n];
            Gemm.MultiplyPanels(a, b, r, m, n, k);
            gemmBlocks.AddRange(r);
        }
        yield return ("Gemm.Multiply(blocks)", gemmBlocks.ToArray());

        // Ranges of columns of the same products, at panel boundaries and inside panels and vectors.
        var columnRanges = new List<float>();
        foreach (var activation in new[] { FusedActivation.None, FusedActivation.Relu6 })
        foreach (var (m, n, k, first, end) in new[] { (9, 70, 16, 0, 32), (9, 70, 16, 32, 70), (16, 300, 40, 17, 250), (5, 40, 19, 3, 11), (13, 33, 5, 32, 33) })
        {
            var r = new float[m * n];
            var a = Random(m * k); var b = Random(k * n); var rowBias = Random(m);
            for (int i = 0; i < rowBias.Length; i++) rowBias[i] *= 4f;
            Gemm.MultiplyBiasActivationColumns(a, b, r, rowBias, m, n, k, first, end, activation);
            columnRanges.AddRange(r);
        }
        yield return ("Gemm.MultiplyBiasActivationColumns", columnRanges.ToArray());

        // Filters in the vector lanes: groups of 14 and 7 positions, single positions left over, depth past one block.
        var lanes = new List<float>();
        foreach (var activation in new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6 })
        foreach (var (m, n, k) in new[] { (32, 49, 300), (64, 22, 19), (32, 1, 5), (64, 196, 40), (32, 300, 9) })
        {
            var r = new float[m * n];
            var a = Random(m * k); var b = Random(k * n); var rowBias = Random(m);
            for (int i = 0; i < rowBias.Length; i++) rowBias[i] *= 4f;
            var panels = new float[m * k];
            FilterLanes.Layout(a, panels, m, k);
            FilterLanes.Forward(panels, b, rowBias, r, m, k, n, 0, m, activation);
            lanes.AddRange(r);
        }
        yield return ("FilterLanes.Forward", lanes.ToArray());

        // Filters in the lanes over a range of positions (a projection split by rows): ranges that start mid-group of 14.
        var lanePositions = new List<float>();
        foreach (var activation in new[] { FusedActivation.None, FusedActivation.Relu6 })
        foreach (var (first, end) in new[] { (0, 42), (42, 98), (95, 196), (195, 196) })
        {
            const int m = 64, n = 196, k = 40;
            var r = new float[m * n];
            var a = Random(m * k); var b = Random(k * n); var rowBias = Random(m);
            for (int i = 0; i < rowBias.Length; i++) rowBias[i] *= 4f;
            var panels = new float[m * k];
            FilterLanes.Layout(a, panels, m, k);
            FilterLanes.ForwardPositions(panels, b, rowBias, r, m, k, n, first, end, activation);
            lanePositions.AddRange(r);
        }
        yield return ("FilterLanes.ForwardPositions", lanePositions.ToArray());

        var dots = new List<float>();
        for (int len = 0; len <= 70; len++) dots.Add(Gemm.Dot(Random(len), Random(len)));
        yield return ("Gemm.Dot", dots.ToArray());

        var packed = new List<float>();
        var unpacked = new List<float>();
        foreach (var (kernel, stride, padding) in new[] { (3, 1, 1), (1, 1, 0), (4, 2, 2), (3, 3, 1), (5, 1, 2) })
        {
            const int channels = 2, height = 9, width = 21;
            int oh = (height + 2 * padding - kernel) / stride + 1, ow = (width + 2 * padding - kernel) / stride + 1;
            var col = new float[channels * kernel * kernel * oh * ow];
            Im2Col.Pack(Random(channels * height * width), col, channels, height, width, kernel, stride, padding, oh, ow);
            packed.AddRange(col);
            var back = Random(channels * height * width);
            Im2Col.Unpack(Random(col.Length), back, channels, height, width, kernel, stride, padding, oh, ow);
            unpacked.AddRange(back);
        }
        yield return ("Im2Col.Pack", packed.ToArray());
        yield return ("Im2Col.Unpack", unpacked.ToArray());

        // Dilated: the taps dilation pixels apart (col2im then always takes the portable loop).
        var dilatedPacked = new List<float>();
        var dilatedUnpacked = new List<float>();
        foreach (var (kernel, stride, padding, dilation) in new[] { (3, 1, 2, 2), (3, 2, 1, 3), (2, 1, 0, 4) })
        {
            const int channels = 2, height = 9, width = 14;
            int span = dilation * (kernel - 1) + 1;
            int oh = (height + 2 * padding - span) / stride + 1, ow = (width + 2 * padding - span) / stride + 1;
            var col = new float[channels * kernel * kernel * oh * ow];
            Im2Col.Pack(Random(channels * height * width), col, channels, height, width, kernel, stride, padding, oh, ow, dilation);
            dilatedPacked.AddRange(col);
            var back = Random(channels * height * width);
            Im2Col.Unpack(Random(col.Length), back, channels, height, width, kernel, stride, padding, oh, ow, dilation);
            dilatedUnpacked.AddRange(back);
        }
        yield return ("Im2Col.Pack.dilated", dilatedPacked.ToArray());
        yield return ("Im2Col.Unpack.dilated", dilatedUnpacked.ToArray());

        // Depthwise: strides 1, 2 and 3, paddings 0 to 2, widths around the 16-lane chunks, a channel range, each activation.
        var depthwise = new List<float>();
        foreach (var (kernel, stride, padding, width) in new[] { (3, 1, 1, 17), (3, 2, 1, 33), (5, 2, 2, 40), (3, 1, 0, 7), (1, 3, 0, 31), (5, 1, 2, 16) })
        foreach (var activation in new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6 })
        {
            const int channels = 3, height = 9;
            int oh = (height + 2 * padding - kernel) / stride + 1, ow = (width + 2 * padding - kernel) / stride + 1;
            var output = new float[channels * oh * ow];
            var input = Random(channels * height * width);
            for (int i = 0; i < input.Length; i++) input[i] *= 4f; // some values past ReLU6's 6
            DepthwiseConv.Forward(input, Random(channels * kernel * kernel), Random(channels), output,
                new float[DepthwiseConv.ScratchLength(height, width, kernel, stride, padding, ow)],
                channels, height, width, kernel, stride, padding, oh, ow, firstChannel: 1, endChannel: channels, activation);
            depthwise.AddRange(output);
        }
        yield return ("DepthwiseConv.Forward", depthwise.ToArray());

        // 3x3 at strides 1 and 2 on rows of at most 16 outputs, 8 channels or more (eight at a time in the lanes with
        // AVX2): two blocks of eight and two channels left over, a range that starts off a multiple of 8.
        var depthwiseBlocks = new List<float>();
        foreach (var (stride, padding, height, width, activation) in new[] { (1, 1, 7, 7, FusedActivation.Relu6), (2, 1, 14, 14, FusedActivation.None),
                                                                             (1, 0, 9, 15, FusedActivation.Relu), (2, 2, 4, 31, FusedActivation.Relu6) })
        {
            const int channels = 19;
            int oh = (height + 2 * padding - 3) / stride + 1, ow = (width + 2 * padding - 3) / stride + 1;
            var output = new float[channels * oh * ow];
            var input = Random(channels * height * width);
            for (int i = 0; i < input.Length; i++) input[i] *= 4f; // some values past ReLU6's 6
            DepthwiseConv.Forward(input, Random(channels * 9), Random(channels), output, new float[DepthwiseConv.ScratchLength(height, width, 3, stride, padding, ow)],
                channels, height, width, 3, stride, padding, oh, ow, firstChannel: 1, endChannel: channels, activation);
            depthwiseBlocks.AddRange(output);
        }
        yield return ("DepthwiseConv.Forward.channelBlocks", depthwiseBlocks.ToArray());

        // The 3x3 stride-1 kernel without a padded copy: widths of one chunk and less (7, 14), several (33, 56), one
        // row, heights that end a block of four rows early; a channel range; every activation.
        var depthwise3x3 = new List<float>();
        foreach (var (height, width, activation) in new[] { (7, 7, FusedActivation.Relu6), (14, 14, FusedActivation.None), (5, 33, FusedActivation.Relu),
                                                             (1, 16, FusedActivation.Relu6), (11, 56, FusedActivation.Relu6), (6, 1, FusedActivation.None) })
        {
            const int channels = 5;
            var output = new float[channels * height * width];
            var input = Random(channels * height * width);
            for (int i = 0; i < input.Length; i++) input[i] *= 4f; // some values past ReLU6's 6
            Depthwise3x3.Forward(input, Random(channels * 9), Random(channels), output, channels, height, width, firstChannel: 1, endChannel: channels, activation);
            depthwise3x3.AddRange(output);
        }
        yield return ("Depthwise3x3.Forward", depthwise3x3.ToArray());

        // The 3x3 stride-2 kernel without a padded copy: odd and even sizes, outputs of less than one chunk (7), one (32)
        // and more than two (56 from 112 columns; 33 from 65), one row, heights that end a block of four rows early; a
        // channel range; every activation.
        var depthwise3x3Stride2 = new List<float>();
        foreach (var (height, width, activation) in new[] { (14, 14, FusedActivation.Relu6), (13, 13, FusedActivation.None), (5, 65, FusedActivation.Relu),
                                                             (1, 32, FusedActivation.Relu6), (9, 112, FusedActivation.Relu6), (6, 1, FusedActivation.None),
                                                             (7, 64, FusedActivation.Relu6) })
        {
            const int channels = 5;
            var output = new float[channels * ((height + 1) / 2) * ((width + 1) / 2)];
            var input = Random(channels * height * width);
            for (int i = 0; i < input.Length; i++) input[i] *= 4f; // some values past ReLU6's 6
            Depthwise3x3Stride2.Forward(input, Random(channels * 9), Random(channels), output, channels, height, width, firstChannel: 1, endChannel: channels, activation);
            depthwise3x3Stride2.AddRange(output);
        }
        yield return ("Depthwise3x3Stride2.Forward", depthwise3x3Stride2.ToArray());

        // The 1x1 expansion and depthwise convolution in bands of output rows: bands at the padded top and bottom, strides 1 to 3.
        var expandDepthwise = new List<float>();
        foreach (var (kernel, stride, padding, width, band) in new[] { (3, 2, 1, 37, 4), (3, 1, 1, 17, 3), (5, 1, 2, 20, 2), (3, 3, 0, 31, 1) })
        {
            const int inChannels = 5, channels = 7, height = 13;
            int oh = (height + 2 * padding - kernel) / stride + 1, ow = (width + 2 * padding - kernel) / stride + 1;
            var output = new float[channels * oh * ow];
            var input = Random(inChannels * height * width);
            for (int i = 0; i < input.Length; i++) input[i] *= 6f; // expansions past ReLU6's 6
            ExpandDepthwise.Forward(input, Random(channels * inChannels), Random(channels), FusedActivation.Relu6,
                Random(channels * kernel * kernel), Random(channels), FusedActivation.Relu6, output,
                new float[ExpandDepthwise.ScratchLength(inChannels, channels, height, width, kernel, stride, padding, ow, band)],
                inChannels, channels, height, width, kernel, stride, padding, oh, ow, band);
            expandDepthwise.AddRange(output);
        }
        yield return ("ExpandDepthwise.Forward", expandDepthwise.ToArray());

        // The same with 48 expanded channels, which AVX-512 and AVX2 expand straight into channel-last rows (three and six
        // blocks): strides 1 and 2, rows of 20 outputs (groups of eight and a last four) and of 5.
        var expandChannelLast = new List<float>();
        foreach (var (stride, padding, width, band) in new[] { (1, 1, 20, 6), (2, 1, 39, 4), (1, 0, 7, 3), (2, 2, 9, 2) })
        {
            const int inChannels = 11, channels = 48, height = 14;
            int oh = (height + 2 * padding - 3) / stride + 1, ow = (width + 2 * padding - 3) / stride + 1;
            var output = new float[channels * oh * ow];
            var input = Random(inChannels * height * width);
            for (int i = 0; i < input.Length; i++) input[i] *= 6f;
            ExpandDepthwise.Forward(input, Random(channels * inChannels), Random(channels), FusedActivation.Relu6,
                Random(channels * 9), Random(channels), FusedActivation.Relu6, output,
                new float[ExpandDepthwise.ScratchLength(inChannels, channels, height, width, 3, stride, padding, ow, band)],
                inChannels, channels, height, width, 3, stride, padding, oh, ow, band);
            expandChannelLast.AddRange(output);
        }
        yield return ("ExpandDepthwise.Forward channel-last", expandChannelLast.ToArray());

        // The input gradient of stride-1 convolutions by the direct kernel: rows of up to 16 and up to 32, a 5x5 kernel without padding.
        var inputGradient = new List<float>();
        foreach (var (channels, filters, kernel, padding, size) in new[] { (5, 7, 3, 1, 16), (9, 4, 3, 1, 30), (3, 6, 5, 0, 20) })
        {
            int outSize = size + 2 * padding - kernel + 1;
            var flipped = new float[filters * channels * kernel * kernel];
            DirectConvInputGradient.FlipWeights(Random(flipped.Length), flipped, filters, channels, kernel);
            var dinp = new float[channels * size * size];
            DirectConvInputGradient.Image(Random(filters * outSize * outSize), flipped, dinp,
                new float[DirectConvInputGradient.PaddedLength(filters, outSize, outSize, kernel, padding)],
                channels, size, size, filters, kernel, padding, outSize, outSize);
            inputGradient.AddRange(dinp);
        }
        yield return ("DirectConvInputGradient.Image", inputGradient.ToArray());

        // The weight gradient from the padded images: rows 16 and 32 wide, columns past the last block of 8, filters not a
        // multiple of 3, several images, a map longer than one segment, a 5x5 kernel without padding, onto existing values.
        var weightGradient = new List<float>();
        foreach (var (channels, filters, kernel, padding, outHeight, outWidth, count) in new[]
                 { (3, 7, 3, 1, 16, 16, 3), (5, 4, 3, 1, 32, 32, 2), (2, 5, 5, 0, 40, 32, 1), (4, 50, 1, 0, 6, 16, 2) })
        {
            int height = outHeight - 2 * padding + kernel - 1, width = outWidth - 2 * padding + kernel - 1;
            var dweight = Random(filters * channels * kernel * kernel);
            DirectWeightGradient.Accumulate(Random(count * channels * height * width), Random(count * filters * outHeight * outWidth), dweight,
                new float[DirectWeightGradient.PaddedLength(count, channels, height, width, padding)], count, channels, height, width, filters, kernel, padding, outHeight, outWidth);
            weightGradient.AddRange(dweight);
        }
        yield return ("DirectWeightGradient.Accumulate", weightGradient.ToArray());

        var bias = new List<float>();
        foreach (int columns in sizes)
        {
            var y = Random(3 * columns);
            Elementwise.AddBias(y, Random(3), 3, columns);
            Elementwise.AddColumnBias(y, Random(columns), 3, columns);
            var rowSums = Random(3); Elementwise.AddRowSums(y, rowSums, 3, columns);
            var columnSums = Random(columns); Elementwise.AddColumnSums(y, columnSums, 3, columns);
            bias.AddRange(y); bias.AddRange(rowSums); bias.AddRange(columnSums);
        }
        yield return ("Elementwise", bias.ToArray());

        // A shortcut's sum with its ReLU in one pass: sums that cancel to -0, NaN and infinities among the values.
        var addRelu = new List<float>();
        foreach (int n in sizes)
        {
            var x = Random(n); var s = Random(n); var y = new float[n];
            for (int i = 0; i < n; i += 5) s[i] = -x[i];
            if (n > 3) { x[1] = float.NaN; x[2] = float.PositiveInfinity; s[2] = float.NegativeInfinity; x[3] = -0f; s[3] = -0f; }
            Elementwise.AddRelu(x, s, y);
            addRelu.AddRange(y);
        }
        yield return ("Elementwise.AddRelu", addRelu.ToArray());

        // A ReLU's backward adding a shortcut's share first: masked-off outputs, NaN outputs, gradients and shares, and
        // infinities that cancel.
        var reluShare = new List<float>();
        foreach (int n in sizes)
        {
            var y = Random(n); var dy = Random(n); var share = Random(n);
            if (n > 3) { y[1] = float.NaN; dy[2] = float.NaN; share[2] = float.NaN; y[2] = 1f; dy[3] = float.PositiveInfinity; share[3] = float.NegativeInfinity; y[3] = 1f; }
            Activations.ReluBackwardAddingShare(y, dy, share);
            reluShare.AddRange(dy);
        }
        yield return ("Activations.ReluBackwardAddingShare", reluShare.ToArray());

        // Max pooling of any window: strides 1 and 2 (the vector path) and 3, padding, rows past 16 outputs, ties and NaN.
        var maxPool = new List<float>();
        foreach (var (size, stride, padding, width) in new[] { (3, 2, 1, 35), (3, 1, 1, 20), (2, 2, 1, 17), (3, 3, 1, 22) })
        {
            const int planes = 2, height = 9;
            int oh = (height + 2 * padding - size) / stride + 1, ow = (width + 2 * padding - size) / stride + 1;
            var x = Random(planes * height * width);
            for (int i = 0; i < x.Length; i += 7) x[i] = MathF.Round(x[i]); // ties
            x[10] = float.NaN;
            var y = new float[planes * oh * ow];
            var winners = new int[y.Length];
            Pooling.MaxPool(x, y, winners, planes, height, width, size, stride, padding, oh, ow);
            maxPool.AddRange(y);
            maxPool.AddRange(winners.Select(w => (float)w));
        }
        yield return ("Pooling.MaxPool", maxPool.ToArray());

        // A max pool's backward with the ReLU before it (vector masks with a scalar tail): outputs of 17 and 600 a plane,
        // the pooled values zero, negative, positive and NaN.
        var maxPoolRelu = new List<float>();
        foreach (var (height, width) in new[] { (9, 35), (40, 60) })
        {
            const int planes = 2;
            int oh = height / 2, ow = width / 2;
            var x = Random(planes * height * width);
            for (int i = 0; i < x.Length; i++) x[i] = Math.Max(x[i], 0f);
            x[5] = float.NaN;
            var y = new float[planes * oh * ow];
            var winners = new int[y.Length];
            Pooling.MaxPool(x, y, winners, planes, height, width, 2, 2, 0, oh, ow);
            var dx = new float[x.Length];
            Pooling.MaxPoolReluBackward(Random(y.Length), winners, y, dx, planes, height * width, oh * ow);
            maxPoolRelu.AddRange(dx);
        }
        yield return ("Pooling.MaxPoolReluBackward", maxPoolRelu.ToArray());

        // Inference's max pooling, the maxima alone (separable on the vector path): the same shapes and values, NaNs of
        // two payloads and zeros of both signs in shared windows, and 2x2 halvings (a whole chunk of 16 outputs, and 5 of a
        // partial one: LeNet-5's second pool).
        var maxPoolValues = new List<float>();
        foreach (var (size, stride, padding, width) in new[] { (3, 2, 1, 35), (3, 1, 1, 20), (2, 2, 1, 17), (3, 3, 1, 22), (2, 2, 0, 33), (2, 2, 0, 10) })
        {
            const int planes = 2, height = 9;
            int oh = (height + 2 * padding - size) / stride + 1, ow = (width + 2 * padding - size) / stride + 1;
            var x = Random(planes * height * width);
            for (int i = 0; i < x.Length; i += 7) x[i] = MathF.Round(x[i]); // ties
            for (int i = 3; i < x.Length; i += 11) x[i] = i % 2 == 0 ? -0f : 0f;
            x[10] = float.NaN;
            x[11] = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_0005));
            var y = new float[planes * oh * ow];
            Pooling.MaxPoolValues(x, y, planes, height, width, size, stride, padding, oh, ow);
            maxPoolValues.AddRange(y);
        }
        yield return ("Pooling.MaxPoolValues", maxPoolValues.ToArray());

        // 2x2 average pooling with stride 2: whole chunks of 16 outputs and partial ones, odd sizes whose last row and
        // column are left out, windows of negative zeros only, NaN and infinities.
        var averagePool = new List<float>();
        foreach (var (height, width) in new[] { (4, 64), (5, 35), (9, 17), (2, 2), (3, 50), (6, 28) })
        {
            const int planes = 3;
            int oh = height / 2, ow = width / 2;
            var x = Random(planes * height * width);
            x[0] = x[1] = x[width] = x[width + 1] = -0f;
            x[2] = float.NaN;
            x[x.Length - 1] = float.PositiveInfinity;
            x[x.Length - 2 - width] = float.NegativeInfinity;
            var y = new float[planes * oh * ow];
            AveragePool2x2.Forward(x, y, planes, height, width, oh, ow);
            averagePool.AddRange(y);
        }
        yield return ("AveragePool2x2.Forward", averagePool.ToArray());

        // A convolution's im2col and product in blocks of output rows: whole panels, leftover columns and a short last
        // block, stride 2 and 1, ReLU and none.
        var blocks = new List<float>();
        foreach (var (channels, size, filters, kernel, stride, padding, rows, relu) in new[] { (3, 40, 16, 7, 2, 3, 2, true), (2, 27, 9, 3, 1, 1, 5, false) })
        {
            int outSize = (size + 2 * padding - kernel) / stride + 1, k = channels * kernel * kernel;
            var output = new float[filters * outSize * outSize];
            Im2ColBlocks.Forward(Random(channels * size * size), Random(filters * k), Random(filters), output, new float[k * outSize * outSize],
                channels, size, size, filters, kernel, stride, padding, outSize, outSize, rows, relu ? FusedActivation.Relu : FusedActivation.None);
            blocks.AddRange(output);
        }
        yield return ("Im2ColBlocks", blocks.ToArray());

        // The same blocks with the filters in the vector lanes (whole panels of 32).
        var blockLanes = new List<float>();
        foreach (var (channels, size, filters, kernel, stride, padding, rows, relu) in new[] { (3, 40, 32, 7, 2, 3, 2, true), (2, 27, 64, 3, 1, 1, 5, false) })
        {
            int outSize = (size + 2 * padding - kernel) / stride + 1, k = channels * kernel * kernel;
            var output = new float[filters * outSize * outSize];
            var panels = new float[filters * k];
            FilterLanes.Layout(Random(filters * k), panels, filters, k);
            Im2ColBlocks.ForwardLanes(Random(channels * size * size), panels, Random(filters), output, new float[k * outSize * outSize],
                channels, size, size, filters, kernel, stride, padding, outSize, outSize, rows, relu ? FusedActivation.Relu : FusedActivation.None);
            blockLanes.AddRange(output);
        }
        yield return ("Im2ColBlocks.ForwardLanes", blockLanes.ToArray());

        // Ranges of blocks, each in the thread's own scratch, with the filters in rows and in the lanes.
        var blockRanges = new List<float>();
        foreach (var (channels, size, filters, kernel, stride, padding, rows, inLanes) in new[] { (3, 40, 32, 7, 2, 3, 2, true), (3, 33, 24, 3, 1, 1, 3, false) })
        {
            int outSize = (size + 2 * padding - kernel) / stride + 1, k = channels * kernel * kernel, blockCount = (outSize + rows - 1) / rows;
            var output = new float[filters * outSize * outSize];
            var weight = Random(filters * k);
            if (inLanes)
            {
                var panels = new float[filters * k];
                FilterLanes.Layout(weight, panels, filters, k);
                weight = panels;
            }
            float[] input = Random(channels * size * size), biases = Random(filters);
            Im2ColBlocks.ForwardBlocks(input, weight, biases, output, inLanes, channels, size, size, filters, kernel, stride, padding, outSize, outSize,
                rows, FusedActivation.Relu, blockCount / 2, blockCount);
            Im2ColBlocks.ForwardBlocks(input, weight, biases, output, inLanes, channels, size, size, filters, kernel, stride, padding, outSize, outSize,
                rows, FusedActivation.Relu, 0, blockCount / 2);
            blockRanges.AddRange(output);
        }
        yield return ("Im2ColBlocks.ForwardBlocks", blockRanges.ToArray());

        // The direct stride-2 kernel: odd and even paddings and widths, rows of one vector and of several, filters past a
        // block of 8, whole calls and ranges of blocks.
        var strideTwo = new List<float>();
        foreach (var (channels, size, filters, kernel, padding, rows, activation) in new[]
                 { (3, 40, 13, 7, 3, 3, FusedActivation.Relu), (2, 27, 8, 3, 1, 2, FusedActivation.Relu6), (1, 70, 17, 3, 0, 5, FusedActivation.None), (4, 11, 3, 5, 2, 1, FusedActivation.None) })
        {
            int outSize = (size + 2 * padding - kernel) / 2 + 1, blockCount = (outSize + rows - 1) / rows;
            float[] input = Random(channels * size * size), weight = Random(filters * channels * kernel * kernel), biases = Random(filters);
            var output = new float[filters * outSize * outSize];
            StrideTwoConv.Forward(input, weight, biases, output, new float[StrideTwoConv.ScratchLength(channels, size, kernel, padding, rows)],
                channels, size, size, filters, kernel, padding, outSize, outSize, rows, activation);
            strideTwo.AddRange(output);
            StrideTwoConv.ForwardBlocks(input, weight, biases, output, channels, size, size, filters, kernel, padding, outSize, outSize, rows, activation, blockCount / 2, blockCount);
            StrideTwoConv.ForwardBlocks(input, weight, biases, output, channels, size, size, filters, kernel, padding, outSize, outSize, rows, activation, 0, blockCount / 2);
            strideTwo.AddRange(output);
        }
        yield return ("StrideTwoConv", strideTwo.ToArray());

        // The filter-lane product read straight from the padded input: groups over two 7-wide rows and a run of 7 left,
        // two groups to a 28-wide row, stride 1 and 2, several blocks of channels, a range of panels.
        var directLanes = new List<float>();
        foreach (var (channels, size, filters, kernel, stride, padding, activation) in new[]
                 { (30, 14, 64, 3, 2, 1, FusedActivation.Relu), (3, 56, 32, 3, 2, 1, FusedActivation.Relu6), (40, 7, 32, 3, 1, 1, FusedActivation.None), (260, 14, 32, 1, 2, 0, FusedActivation.None) })
        {
            int outSize = (size + 2 * padding - kernel) / stride + 1, k = channels * kernel * kernel;
            var panels = new float[filters * k];
            FilterLanes.Layout(Random(filters * k), panels, filters, k);
            float[] input = Random(channels * size * size), biases = Random(filters);
            var padded = padding > 0 ? new float[DirectFilterLanes.PaddedLength(channels, size, size, padding)] : input;
            if (padding > 0) DirectFilterLanes.Pad(input, padded, channels, size, size, padding, 0, channels);
            var output = new float[filters * outSize * outSize];
            DirectFilterLanes.Forward(panels, padded, biases, output, channels, size, size, filters, kernel, stride, padding, outSize, outSize, 0, filters, activation);
            directLanes.AddRange(output);
            DirectFilterLanes.Forward(panels, padded, biases, output, channels, size, size, filters, kernel, stride, padding, outSize, outSize, filters - 32, filters, FusedActivation.Relu);
            directLanes.AddRange(output);
        }
        yield return ("DirectFilterLanes", directLanes.ToArray());

        // A 1x1 convolution whose input is normalised and rectified as it is read (DenseNet's), weights in rows and in
        // panels, with a ReLU, over blocks of positions with a short last one.
        var normRelu = new List<float>();
        foreach (var (filters, k, positions, inPanels) in new[] { (40, 37, 100, false), (64, 96, 59, true) })
        {
            float[] weight = Random(filters * k), x = Random(k * positions), scale = Random(k), shift = Random(k), biases = Random(filters);
            var operand = weight;
            if (inPanels) { operand = new float[filters * k]; FilterLanes.Layout(weight, operand, filters, k); }
            var output = new float[filters * positions];
            NormReluProduct.Forward(operand, inPanels, x, scale, shift, biases, output, filters, k, positions, 0, filters, 0, positions, FusedActivation.Relu);
            normRelu.AddRange(output);
        }
        yield return ("NormReluProduct", normRelu.ToArray());

        var softmax = new List<float>();
        foreach (int n in sizes)
        {
            var z = Random(n); var p = new float[n]; var d = new float[n];
            SoftmaxCrossEntropy.Softmax(z, p);
            softmax.AddRange(p);
            softmax.Add(SoftmaxCrossEntropy.LossAndGradient(z, n / 2, d, 0.25f));
            softmax.AddRange(d);
        }
        yield return ("SoftmaxCrossEntropy", softmax.ToArray());

        // Winograd F(4x4, 3x3): channel and filter counts with and without remainders past 16, edge tiles, a filter range, ReLU.
        var winograd = new List<float>();
        foreach (var (images, channels, filters, height, width, padding, relu, f0, f1) in new[]
                 { (2, 16, 32, 8, 8, 1, true, 0, 32), (1, 19, 21, 11, 9, 0, false, 0, 21), (3, 33, 40, 7, 10, 1, true, 5, 37), (1, 35, 16, 12, 21, 1, false, 0, 16) })
        {
            int oh = height + 2 * padding - 2, ow = width + 2 * padding - 2;
            var weight = Random(filters * channels * 9);
            var transformed = new float[Winograd3x3.TransformedWeightLength(filters, channels)];
            Winograd3x3.TransformWeights(weight, transformed, filters, channels, f0, f1);
            var output = new float[images * filters * oh * ow];
            Winograd3x3.Forward(Random(images * channels * height * width), images, transformed, Random(filters), output,
                new float[Winograd3x3.PaddedLength(images, channels, oh, ow)], new float[Winograd3x3.ScratchLength(images, channels, f1 - f0, oh, ow)], channels, height, width, filters, padding, oh, ow, relu, f0, f1);
            winograd.AddRange(transformed);
            winograd.AddRange(output);
        }
        yield return ("Winograd3x3", winograd.ToArray());

        // Winograd with a 2x2 max pool taken as each tile is stored: whole and edge tiles (10 wide: 4, 4, 2), filters past 16,
        // ReLU or not, and a NaN input whose windows keep the pool's rule.
        var pooledWinograd = new List<float>();
        foreach (var (images, channels, filters, side, relu) in new[] { (2, 16, 21, 10, true), (1, 24, 32, 8, false), (1, 5, 3, 6, true) })
        {
            var weight = Random(filters * channels * 9);
            var transformed = new float[Winograd3x3.TransformedWeightLength(filters, channels)];
            Winograd3x3.TransformWeights(weight, transformed, filters, channels, 0, filters);
            var input = Random(images * channels * side * side);
            input[side + 3] = float.NaN;
            var output = new float[images * filters * side * side / 4];
            Winograd3x3.Forward(input, images, transformed, Random(filters), output, new float[Winograd3x3.PaddedLength(images, channels, side, side)],
                new float[Winograd3x3.ScratchLength(images, channels, filters, side, side)], channels, side, side, filters, 1, side, side, relu, pool2x2: true);
            pooledWinograd.AddRange(output);
        }
        yield return ("Winograd3x3 pooled", pooledWinograd.ToArray());

        // Winograd's input and weight gradients: filter and channel counts with and without remainders past 16, edge tiles,
        // paddings 0 to 2, several images.
        var winogradGradients = new List<float>();
        foreach (var (images, channels, filters, height, width, padding) in new[]
                 { (2, 16, 32, 8, 8, 1), (1, 19, 21, 11, 9, 0), (3, 33, 40, 7, 10, 2), (1, 35, 16, 12, 21, 1) })
        {
            int oh = height + 2 * padding - 2, ow = width + 2 * padding - 2;
            var weight = Random(filters * channels * 9);
            var transformed = new float[WinogradInputGradient.TransformedWeightLength(filters, channels)];
            WinogradInputGradient.TransformWeights(weight, new float[weight.Length], transformed, filters, channels);
            var dout = Random(images * filters * oh * ow);
            var dinp = new float[images * channels * height * width];
            WinogradInputGradient.Images(dout, images, transformed, dinp, new float[WinogradInputGradient.PaddedLength(images, filters, height, width)],
                new float[WinogradInputGradient.ScratchLength(images, channels, filters, height, width)], channels, height, width, filters, padding, oh, ow);
            var dweight = Random(weight.Length);
            var sums = new float[WinogradWeightGradient.SumsLength(channels, filters)];
            var pending = new float[WinogradWeightGradient.PendingLength(channels, filters)];
            WinogradWeightGradient.AddTiles(Random(images * channels * height * width), dout, images, sums, pending,
                new float[WinogradWeightGradient.PaddedLength(images, channels, oh, ow)], new float[WinogradWeightGradient.GradientTilesLength(images, filters, oh, ow)],
                channels, height, width, filters, padding, oh, ow);
            WinogradWeightGradient.AddFilterGradients(sums, pending, dweight, channels, filters);
            winogradGradients.AddRange(sums);
            winogradGradients.AddRange(transformed);
            winogradGradients.AddRange(dinp);
            winogradGradients.AddRange(dweight);
        }
        yield return ("WinogradGradients", winogradGradients.ToArray());

        // BatchNorm.Refold: rows that cover the 16- and 8-wide paths and their tails, NaN weights (one filter's scale NaN
        // too), into held values that are garbage, then the same fold (unchanged), then after one weight moved.
        var refold = new List<float>();
        foreach (int perFilter in sizes)
        {
            const int filters = 3;
            var weight = Random(filters * perFilter);
            for (int i = 0; i < weight.Length; i += 5) weight[i] = BitConverter.Int32BitsToSingle(0x7F80_0000 | (i + 1));
            float[] bnWeight = [1.5f, float.NaN, -0.5f], runningVar = [0.5f, 1f, 2f], convBias = Random(filters), bnBias = Random(filters), mean = Random(filters);
            var held = Random(weight.Length);
            var heldBias = Random(filters);
            for (int round = 0; round < 3; round++)
            {
                if (round == 2) weight[perFilter - 1] += 1f;
                bool changed = BatchNorm.Refold(weight, convBias, bnWeight, bnBias, mean, runningVar, 1e-5f, held, heldBias);
                refold.Add(changed ? 1f : 0f);
                refold.AddRange(held);
                refold.AddRange(heldBias);
            }
        }
        yield return ("BatchNorm.Refold", refold.ToArray());

        // The ReLU's backward inside the BatchNorm's gradient sums: rows of every size above, outputs of which a third are
        // zero, one -0 and one NaN, and a NaN gradient; the masked gradients, then each sum's bits as two floats.
        var maskedSums = new List<float>();
        foreach (int spatial in sizes)
        {
            const int batch = 2, channels = 3;
            var dy = Random(batch * channels * spatial);
            var y = Random(dy.Length);
            for (int i = 0; i < y.Length; i++) y[i] = i % 3 == 0 ? 0f : MathF.Abs(y[i]);
            y[1] = -0f;
            y[^1] = float.NaN;
            dy[dy.Length / 2] = float.NaN;
            var sums = new double[2 * channels];
            BatchNorm.MaskAndAddGradientSums(dy, y, Random(dy.Length), Random(channels), batch, channels, spatial, sums);
            maskedSums.AddRange(dy);
            foreach (double sum in sums)
            {
                long bits = BitConverter.DoubleToInt64Bits(sum);
                maskedSums.Add(BitConverter.Int32BitsToSingle((int)bits));
                maskedSums.Add(BitConverter.Int32BitsToSingle((int)(bits >> 32)));
            }
        }
        yield return ("BatchNorm.MaskAndAddGradientSums", maskedSums.ToArray());

        // The optimisers' one-pass steps (a vector path and a scalar tail): SGD with momentum, dampening and weight decay,
        // Nesterov's, Adam and AdamW, three steps each over a length of every size above.
        var steps = new List<float>();
        foreach (int length in sizes)
            foreach (var optimizer in new CnnGen.Optimizers.IOptimizer[]
                     {
                         new CnnGen.Optimizers.Sgd(0.05f, momentum: 0.9f, dampening: 0.1f, weightDecay: 1e-3f),
                         new CnnGen.Optimizers.Sgd(0.05f, momentum: 0.9f, weightDecay: 1e-3f, nesterov: true),
                         new CnnGen.Optimizers.Adam(2e-3f, weightDecay: 1e-2f),
                         new CnnGen.Optimizers.AdamW(2e-3f),
                     })
            {
                var parameters = Random(length);
                for (int step = 0; step < 3; step++) optimizer.Step(parameters, Random(length));
                steps.AddRange(parameters);
                foreach (var state in optimizer.State.Values) steps.AddRange(state);
            }
        yield return ("Optimizers.Step", steps.ToArray());
    }
}
