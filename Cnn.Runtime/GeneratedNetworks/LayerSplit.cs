using CnnGen.Parallelism;

namespace CnnGen.GeneratedNetworks;

/// <summary>
/// Units <c>[start, end)</c> of one layer's work (its filters, output units, channel groups, or the input channels
/// that im2col lays out) for <paramref name="batch"/> images: reads <paramref name="input"/>, writes only those units'
/// values of <paramref name="output"/>.
/// </summary>
public delegate void LayerRange<TWorkspace>(TWorkspace ws, ReadOnlySpan<float> input, Span<float> output,
    ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int batch, int start, int end);

/// <summary>
/// Runs one layer of a forward pass on all the threads at once, when a pass has fewer images than threads: the
/// layer's units are cut into one contiguous range per thread and each range runs on <see cref="WorkerPool.Shared"/>
/// as one part of the same job. A range holds whole blocks of <c>block</c> units (the kernel's register block), so no
/// thread computes a block twice. Every unit's values come from the same operations in the same order whichever range
/// holds it, so the results are the bits of one thread. The spans are pinned for the job; nothing is allocated once
/// the part delegate exists.
/// </summary>
public sealed unsafe class LayerSplit<TWorkspace> where TWorkspace : NetworkWorkspace
{
    private JobPart? _runPart;

    // The running job: written before the parts start, cleared once they have all finished.
    private LayerRange<TWorkspace>? _body;
    private TWorkspace? _ws;
    private float* _input, _output, _weight, _bias;
    private int _inputLength, _outputLength, _weightLength, _biasLength, _batch, _units, _block;

    /// <summary>Units <c>[Start, End)</c> of part <paramref name="part"/>: whole blocks of <paramref name="block"/>
    /// units, shared out as evenly as blocks allow; the last block may be short. Empty for a part with no block.</summary>
    public static (int Start, int End) Range(int units, int block, int part, int parts)
    {
        int blocks = (units + block - 1) / block;
        int first = (int)((long)part * blocks / parts), end = (int)((long)(part + 1) * blocks / parts);
        return (Math.Min(units, first * block), Math.Min(units, end * block));
    }

    /// <summary>Runs <paramref name="body"/> over <paramref name="units"/> units cut into <paramref name="parts"/>
    /// ranges of whole <paramref name="block"/>s, one per thread, and returns when all are done.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No units, a block below 1, or parts outside the pool's range.</exception>
    public void Run(int parts, LayerRange<TWorkspace> body, TWorkspace ws, ReadOnlySpan<float> input, Span<float> output,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int batch, int units, int block)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(block, 1);
        if (parts <= 1)
        {
            body(ws, input, output, weight, bias, batch, 0, units);
            return;
        }
        fixed (float* pInput = input, pOutput = output, pWeight = weight, pBias = bias)
        {
            _body = body;
            _ws = ws;
            _input = pInput; _output = pOutput; _weight = pWeight; _bias = pBias;
            _inputLength = input.Length; _outputLength = output.Length; _weightLength = weight.Length; _biasLength = bias.Length;
            _batch = batch; _units = units; _block = block;
            try
            {
                WorkerPool.Shared.RunParts(Math.Min(parts, (units + block - 1) / block), _runPart ??= RunPart);
            }
            finally
            {
                _body = null;
                _ws = null;
                _input = _output = _weight = _bias = null;
            }
        }
    }

    private void RunPart(int part, int parts)
    {
        (int start, int end) = Range(_units, _block, part, parts);
        if (start >= end) return;
        _body!(_ws!, new ReadOnlySpan<float>(_input, _inputLength), new Span<float>(_output, _outputLength),
            new ReadOnlySpan<float>(_weight, _weightLength), new ReadOnlySpan<float>(_bias, _biasLength), _batch, start, end);
    }
}
