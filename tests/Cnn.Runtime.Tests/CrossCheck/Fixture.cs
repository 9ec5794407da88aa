using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace CnnGen.Tests.CrossCheck;

/// <summary>
/// One reference fixture written by tools/pytorch_crosscheck.py: an 8-byte little-endian header length, a JSON
/// header, then raw little-endian arrays (F32, F64 or I32) at the byte offsets the header gives.
/// </summary>
public sealed class Fixture
{
    public sealed record Layer(string Name, string Kind, int[] Shape);
    /// <summary>A <c>state_dict</c> entry; <paramref name="State"/> marks a buffer (BatchNorm's running statistics),
    /// whose values are <c>state.&lt;name&gt;</c>, where a parameter's are <c>param.&lt;name&gt;</c>.</summary>
    public sealed record Tensor(string Name, int[] Shape, bool State);
    private sealed record Entry(string DType, int[] Shape, int Offset, int Length);

    private readonly byte[] _data;
    private readonly int _dataStart;
    private readonly Dictionary<string, Entry> _arrays = new();

    public string Network { get; }
    public int Batch { get; }
    public bool EndsWithSoftmax { get; }
    /// <summary>Largest relative error of PyTorch's own float32 results against its float64 ones.</summary>
    public double Torch32Error { get; }
    public IReadOnlyList<Layer> Layers { get; }
    /// <summary>PyTorch's <c>state_dict</c> entries, in order.</summary>
    public IReadOnlyList<Tensor> Tensors { get; }
    /// <summary>The modes the results were computed in: <c>eval</c> (arrays <c>expected.*</c>) and, for a network with
    /// BatchNorm and without Dropout, <c>train</c> (arrays <c>train.*</c>). Empty for a network with neither BatchNorm
    /// nor Dropout, whose <c>expected.*</c> results hold in both modes.</summary>
    public IReadOnlyList<string> Modes { get; }

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static Fixture Load(string network) => new(File.ReadAllBytes(Path.Combine(Directory, network + ".bin")));

    public Fixture(byte[] data)
    {
        _data = data;
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(data);
        if (headerLength <= 0 || 8 + headerLength > data.Length) throw new InvalidDataException("Fixture: bad header length.");
        _dataStart = 8 + (int)headerLength;
        using var json = JsonDocument.Parse(Encoding.UTF8.GetString(data, 8, (int)headerLength));
        var root = json.RootElement;
        Network = root.GetProperty("network").GetString()!;
        Batch = root.GetProperty("batch").GetInt32();
        EndsWithSoftmax = root.GetProperty("endsWithSoftmax").GetBoolean();
        Torch32Error = root.GetProperty("torch32Error").GetDouble();
        Layers = root.GetProperty("layers").EnumerateArray()
            .Select(l => new Layer(l.GetProperty("name").GetString()!, l.GetProperty("kind").GetString()!, IntArray(l.GetProperty("shape"))))
            .ToList();
        Tensors = root.GetProperty("tensors").EnumerateArray()
            .Select(t => new Tensor(t.GetProperty("name").GetString()!, IntArray(t.GetProperty("shape")),
                t.TryGetProperty("state", out var state) && state.GetBoolean()))
            .ToList();
        Modes = root.TryGetProperty("modes", out var modes) ? modes.EnumerateArray().Select(m => m.GetString()!).ToList() : [];
        foreach (var a in root.GetProperty("arrays").EnumerateObject())
        {
            var v = a.Value;
            var array = new Entry(v.GetProperty("dtype").GetString()!, IntArray(v.GetProperty("shape")),
                v.GetProperty("offset").GetInt32(), v.GetProperty("length").GetInt32());
            if (_dataStart + (long)array.Offset + (long)array.Length * Size(array.DType) > data.Length)
                throw new InvalidDataException($"Fixture {Network}: array '{a.Name}' runs past the end of the file.");
            _arrays.Add(a.Name, array);
        }
    }

    public int[] Shape(string key) => Get(key).Shape;

    public bool Has(string key) => _arrays.ContainsKey(key);

    public float[] Floats(string key)
    {
        var a = Get(key, "F32");
        var result = new float[a.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = BinaryPrimitives.ReadSingleLittleEndian(_data.AsSpan(_dataStart + a.Offset + 4 * i));
        return result;
    }

    public double[] Doubles(string key)
    {
        var a = Get(key, "F64");
        var result = new double[a.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = BinaryPrimitives.ReadDoubleLittleEndian(_data.AsSpan(_dataStart + a.Offset + 8 * i));
        return result;
    }

    public int[] Ints(string key)
    {
        var a = Get(key, "I32");
        var result = new int[a.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan(_dataStart + a.Offset + 4 * i));
        return result;
    }

    private Entry Get(string key, string? dtype = null)
    {
        if (!_arrays.TryGetValue(key, out var a)) throw new KeyNotFoundException($"Fixture {Network} has no array '{key}'.");
        if (dtype is not null && a.DType != dtype) throw new InvalidDataException($"Fixture {Network}: '{key}' is {a.DType}, not {dtype}.");
        return a;
    }

    private static int Size(string dtype) => dtype switch
    {
        "F32" or "I32" => 4,
        "F64" => 8,
        _ => throw new InvalidDataException($"Fixture: unknown dtype {dtype}."),
    };

    private static int[] IntArray(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
}
