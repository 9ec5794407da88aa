using System.Buffers.Binary;
using CnnGen.Data;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Data;

public class IdxReaderTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsPlainAndGzippedImagesScaledToUnit(bool gzip)
    {
        using var dir = new TempDirectory();
        string path = dir.File(gzip ? "images.idx" : "images.gz"); // names lie on purpose: detection is by content
        IdxFiles.WriteImages(path, 2, 2, 3, i => (byte)(i * 20), gzip);

        var images = IdxReader.ReadFloats(path, scaleBytesToUnit: true);

        Assert.Equal(IdxElementType.UInt8, images.ElementType);
        Assert.Equal([2, 2, 3], images.Dimensions);
        Assert.Equal(2, images.Count);
        Assert.Equal(6, images.ItemLength);
        for (int i = 0; i < 12; i++) Assert.Equal(i * 20 / 255f, images.Values[i]);
    }

    [Fact]
    public void ReadsBigEndianIntsAndFloats()
    {
        using var dir = new TempDirectory();
        var ints = new byte[12];
        BinaryPrimitives.WriteInt32BigEndian(ints, 7);
        BinaryPrimitives.WriteInt32BigEndian(ints.AsSpan(4), -3);
        BinaryPrimitives.WriteInt32BigEndian(ints.AsSpan(8), 100000);
        IdxFiles.Write(dir.File("ints"), IdxFiles.Bytes(0x0C, [3], ints), gzip: false);
        Assert.Equal([7, -3, 100000], IdxReader.ReadInts(dir.File("ints")).Values);

        var floats = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(floats, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(floats.AsSpan(4), -0.25f);
        IdxFiles.Write(dir.File("floats"), IdxFiles.Bytes(0x0D, [1, 2], floats), gzip: true);
        var read = IdxReader.ReadFloats(dir.File("floats"), scaleBytesToUnit: true);
        Assert.Equal([1.5f, -0.25f], read.Values);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedFileSaysHowManyBytesWereExpectedAndFound(bool gzip)
    {
        using var dir = new TempDirectory();
        var bytes = IdxFiles.Bytes(0x08, [3, 2, 2], new byte[12]);
        string path = dir.File("short");
        IdxFiles.Write(path, bytes[..^5], gzip);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadFloats(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains($"expected {bytes.Length} bytes", e.Message);
        Assert.Contains($"found {bytes.Length - 5}", e.Message);
    }

    [Fact]
    public void TruncatedHeaderIsReported()
    {
        using var dir = new TempDirectory();
        string path = dir.File("header");
        File.WriteAllBytes(path, [0, 0, 8, 3, 0, 0]);
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadFloats(path));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void WrongMagicIsReported()
    {
        using var dir = new TempDirectory();
        string path = dir.File("magic");
        var bytes = IdxFiles.Bytes(0x08, [2], [1, 2]);
        bytes[0] = 0x50;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadInts(path));
        Assert.Contains("wrong magic", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void UnsupportedTypeIsReported()
    {
        using var dir = new TempDirectory();
        string path = dir.File("type");
        File.WriteAllBytes(path, IdxFiles.Bytes(0x0A, [2], [1, 2]));
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadInts(path));
        Assert.Contains("unsupported element type code 0x0a", e.Message);
    }

    [Fact]
    public void TooManyDimensionsAreReported()
    {
        using var dir = new TempDirectory();
        string path = dir.File("dims");
        File.WriteAllBytes(path, IdxFiles.Bytes(0x08, [1, 1, 1, 1, 1], [9]));
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadFloats(path));
        Assert.Contains("too many dimensions: 5", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TrailingGarbageIsReported(bool gzip)
    {
        using var dir = new TempDirectory();
        string path = dir.File("trailing");
        IdxFiles.Write(path, [.. IdxFiles.Bytes(0x08, [2], [1, 2]), 7, 7, 7], gzip);
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadInts(path));
        Assert.Contains("trailing garbage: 3 bytes", e.Message);
    }

    [Fact]
    public void FloatLabelsAreRejectedAsLabels()
    {
        using var dir = new TempDirectory();
        string path = dir.File("floatlabels");
        File.WriteAllBytes(path, IdxFiles.Bytes(0x0D, [1], new byte[4]));
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadInts(path));
        Assert.Contains("Float32", e.Message);
    }

    [Fact]
    public void CorruptGzipIsReportedWithTheFileName()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.gz");
        File.WriteAllBytes(path, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadInts(path));
        Assert.Contains(path, e.Message);
    }
}
