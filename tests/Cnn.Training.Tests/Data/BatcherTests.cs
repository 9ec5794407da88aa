using CnnGen.Data;
using Xunit;

namespace CnnGen.Training.Tests.Data;

public class BatcherTests
{
    [Fact]
    public void SameSeedGivesSameOrderAndEpochsDiffer()
    {
        var data = DatasetTests.Numbered(50, classes: 5);
        var a = new Batcher(data, 8, seed: 3);
        var b = new Batcher(data, 8, seed: 3);
        var c = new Batcher(data, 8, seed: 4);
        a.BeginEpoch(1); b.BeginEpoch(1); c.BeginEpoch(1);
        Assert.Equal(a.Order.ToArray(), b.Order.ToArray());
        Assert.NotEqual(a.Order.ToArray(), c.Order.ToArray());
        var epoch1 = a.Order.ToArray();
        a.BeginEpoch(2);
        Assert.NotEqual(epoch1, a.Order.ToArray());
        a.BeginEpoch(1);
        Assert.Equal(epoch1, a.Order.ToArray()); // an epoch's order depends only on seed and epoch: resumable
    }

    [Fact]
    public void EveryImageOncePerEpochWithPartialLastBatch()
    {
        var data = DatasetTests.Numbered(10, classes: 3);
        var batcher = new Batcher(data, 4, seed: 1);
        Assert.Equal(3, batcher.BatchesPerEpoch);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            batcher.BeginEpoch(epoch);
            var seen = new List<int>();
            var counts = new List<int>();
            while (batcher.MoveNext())
            {
                counts.Add(batcher.CurrentCount);
                for (int k = 0; k < batcher.CurrentCount; k++)
                {
                    int image = (int)batcher.Inputs[k * data.ImageLength];
                    Assert.Equal(data.Labels[image], batcher.Labels[k]);
                    Assert.All(batcher.Inputs.AsSpan(k * 4, 4).ToArray(), v => Assert.Equal(image, v));
                    seen.Add(image);
                }
            }
            Assert.Equal([4, 4, 2], counts);
            Assert.Equal(Enumerable.Range(0, 10), seen.Order());
            Assert.NotEqual(Enumerable.Range(0, 10), seen);
        }
    }

    [Fact]
    public void WithoutShuffleOrderIsDatasetOrder()
    {
        var batcher = new Batcher(DatasetTests.Numbered(7, classes: 2), 3, seed: 9, shuffle: false);
        batcher.BeginEpoch(5);
        Assert.Equal(Enumerable.Range(0, 7), batcher.Order.ToArray());
    }

    [Fact]
    public void FillUsesCallerBuffers()
    {
        var data = DatasetTests.Numbered(5, classes: 5);
        var batcher = new Batcher(data, 2, seed: 0, shuffle: false);
        var inputs = new float[2 * data.ImageLength];
        var labels = new int[2];
        Assert.Equal(1, batcher.Fill(2, inputs, labels));
        Assert.Equal(4, labels[0]);
        Assert.Equal(4f, inputs[0]);
        Assert.Throws<ArgumentException>(() => batcher.Fill(0, new float[3], labels));
        Assert.Throws<ArgumentOutOfRangeException>(() => batcher.Fill(3, inputs, labels));
    }

    [Fact]
    public void MirroringFlipsRowsOfAboutHalfTheImagesDeterministically()
    {
        // 400 images of 2 channels x 2 rows x 3 columns with distinct values.
        const int count = 400, length = 12;
        var images = new float[count * length];
        for (int i = 0; i < images.Length; i++) images[i] = i;
        var data = new Dataset(images, new int[count], 2, 2, 3, 1);
        var batcher = new Batcher(data, 64, seed: 5, shuffle: true, mirror: true);
        var again = new Batcher(data, 64, seed: 5, shuffle: true, mirror: true);
        batcher.BeginEpoch(2);
        again.BeginEpoch(2);
        Assert.Equal(batcher.MirrorFlags.ToArray(), again.MirrorFlags.ToArray());

        int mirrored = 0, position = 0;
        while (batcher.MoveNext())
        {
            Assert.True(again.MoveNext());
            Assert.Equal(batcher.Inputs, again.Inputs);
            for (int k = 0; k < batcher.CurrentCount; k++, position++)
            {
                var served = batcher.Inputs.AsSpan(k * length, length).ToArray();
                var original = data.Image(batcher.Order[position]).ToArray();
                if (batcher.MirrorFlags[position])
                {
                    mirrored++;
                    // each row of 3 reversed, rows and channels in place
                    for (int row = 0; row < 4; row++)
                        for (int x = 0; x < 3; x++)
                            Assert.Equal(original[row * 3 + 2 - x], served[row * 3 + x]);
                }
                else
                {
                    Assert.Equal(original, served);
                }
            }
        }
        Assert.InRange(mirrored, 160, 240);
    }

    [Fact]
    public void BatchesDoNotAllocate()
    {
        var data = DatasetTests.Numbered(300, classes: 3);
        var batcher = new Batcher(data, 32, seed: 2, mirror: true);
        while (batcher.MoveNext()) { }
        batcher.BeginEpoch(1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int batches = 0;
        while (batcher.MoveNext()) batches++;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(10, batches);
        Assert.Equal(0, allocated);
    }
}
