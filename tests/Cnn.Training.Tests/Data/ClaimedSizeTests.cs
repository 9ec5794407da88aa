using CnnGen.Data;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Data;

/// <summary>Headers that claim more than the file holds are refused before the claim is allocated; a batch larger
/// than the data is the data.</summary>
public class ClaimedSizeTests
{
    private static byte[] HeaderClaimingAMillionImages(byte[] data) => IdxFiles.Bytes(0x08, [1_000_000, 28, 28], data);

    [Fact]
    public void APlainFileClaimingAMillionImagesIsRefusedWithoutAllocatingThem()
    {
        using var dir = new TempDirectory();
        string path = dir.File("images");
        IdxFiles.Write(path, HeaderClaimingAMillionImages(new byte[12]), gzip: false); // 28 bytes in all

        DatasetException? e = null;
        long allocated = Allocations.Of(() => e = Assert.Throws<DatasetException>(() => IdxReader.ReadFloats(path)));

        Assert.Equal("truncated: expected 784000016 bytes (1000000 x 28 x 28 UInt8 values after a 16-byte header), found 28", e!.Problem);
        Assert.InRange(allocated, 0, 1 << 20); // the claim is 3.1 GB of floats
    }

    [Fact]
    public void AGzippedFileClaimingAMillionImagesAllocatesOnlyAsValuesArrive()
    {
        using var dir = new TempDirectory();
        string path = dir.File("images.gz");
        IdxFiles.Write(path, HeaderClaimingAMillionImages(new byte[12]), gzip: true);

        DatasetException? e = null;
        long allocated = Allocations.Of(() => e = Assert.Throws<DatasetException>(() => IdxReader.ReadFloats(path)));

        Assert.Equal("truncated: expected 784000016 bytes (1000000 x 28 x 28 UInt8 values after a 16-byte header), found 28", e!.Problem);
        Assert.InRange(allocated, 0, 2 << 20);
    }

    [Fact]
    public void AGzippedFileLargerThanTheFirstAllocationReadsWhole()
    {
        using var dir = new TempDirectory();
        const int Count = 300; // 235,200 values: the array grows twice
        IdxFiles.WriteImages(dir.File("plain"), Count, 28, 28, i => (byte)(i * 7 % 251));
        IdxFiles.WriteImages(dir.File("zipped.gz"), Count, 28, 28, i => (byte)(i * 7 % 251), gzip: true);

        var plain = IdxReader.ReadFloats(dir.File("plain"), scaleBytesToUnit: true);
        var zipped = IdxReader.ReadFloats(dir.File("zipped.gz"), scaleBytesToUnit: true);

        Assert.Equal(Count * 28 * 28, zipped.Values.Length);
        Assert.Equal(plain.Values, zipped.Values);
        Assert.Equal(100_000 * 7 % 251 / 255f, zipped.Values[100_000]); // past the first allocation of 65,536 values
    }

    [Fact]
    public void ATruncatedGzippedFileLargerThanTheFirstAllocationSaysHowMuchItHolds()
    {
        using var dir = new TempDirectory();
        var bytes = IdxFiles.Bytes(0x08, [300, 28, 28], new byte[200 * 28 * 28]);
        IdxFiles.Write(dir.File("short.gz"), bytes, gzip: true);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadInts(dir.File("short.gz")));
        Assert.Equal($"truncated: expected {16 + 300 * 784} bytes (300 x 28 x 28 UInt8 values after a 16-byte header), found {16 + 200 * 784}", e.Problem);
    }

    [Fact]
    public void AnEmptyFileOrADeviceIsRefusedWithoutOpeningIt()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("empty"), []);
        const string Problem = "truncated: 0 bytes (an empty file, or not a regular file: a device or pipe has no length to check)";

        Assert.Equal(Problem, Assert.Throws<DatasetException>(() => IdxReader.ReadFloats(dir.File("empty"))).Problem);
        if (File.Exists("/dev/zero")) // a Unix machine: a device reads forever and reports no length
            Assert.Equal(Problem, Assert.Throws<DatasetException>(() => IdxReader.ReadInts("/dev/zero")).Problem);
    }

    [Theory]
    [InlineData(3_000_000)]
    [InlineData(int.MaxValue)]
    public void ABatchLargerThanTheDatasetIsTheDataset(int batchSize)
    {
        var images = Enumerable.Range(0, 10 * 4).Select(i => (float)i).ToArray();
        var data = new Dataset(images, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 1, 2, 2, 3);

        var batcher = new Batcher(data, batchSize, seed: 1, shuffle: false);

        Assert.Equal(1, batcher.BatchesPerEpoch);
        Assert.Equal(40, batcher.Inputs.Length);
        Assert.Equal(10, batcher.Labels.Length);
        Assert.True(batcher.MoveNext());
        Assert.Equal(10, batcher.CurrentCount);
        Assert.Equal(images, batcher.Inputs);
        Assert.False(batcher.MoveNext());
    }
}
