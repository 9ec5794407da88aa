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
/// layer's units are cut into <see cref="PiecesPerThread"/> contiguous ranges per thread (or one, for a layer whose
/// every range pays a fixed cost of its own: then a late thread's share is not taken over). Each thread first runs the
/// ranges it owns (the calling thread the first ones, pool worker <c>k</c> the <c>k</c>-th share), so from layer to
/// layer and call to call the same units, and the weights and activations they touch, stay on the same core's caches;
/// then it takes over the ranges not yet started by the others, from the end of their shares, so a thread that starts
/// late (or is paused by a busy machine) leaves its share to the others instead of holding up the layer. A range holds whole
/// blocks of <c>block</c> units (the kernel's register block), so no block is computed twice. Every unit's values
/// come from the same operations in the same order whichever range holds it and whichever thread runs it, so the
/// results are the bits of one thread. The spans are pinned for the job; nothing is allocated once the part delegate
/// exists.
/// </summary>
public sealed unsafe class LayerSplit<TWorkspace> where TWorkspace : NetworkWorkspace
{
    /// <summary>Ranges per thread: enough for a thread that is free to take over part of a late one's share, few
    /// enough that each range still keeps a kernel's packed operands busy.</summary>
    public const int PiecesPerThread = 2;

    private JobPart? _runPart;

    // The running job: written before the parts start, cleared once they have all finished.
    private LayerRange<TWorkspace>? _body;
    private TWorkspace? _ws;
    private float* _input, _output, _weight, _bias;
    private int _inputLength, _outputLength, _weightLength, _biasLength, _batch, _units, _block, _pieces;
    private int[] _started = Array.Empty<int>(); // 1 once a thread has taken the range
    private int _callerThread;

    /// <summary>Units <c>[Start, End)</c> of part <paramref name="part"/>: whole blocks of <paramref name="block"/>
    /// units, shared out as evenly as blocks allow; the last block may be short. Empty for a part with no block.</summary>
    public static (int Start, int End) Range(int units, int block, int part, int parts)
    {
        int blocks = (units + block - 1) / block;
        int first = (int)((long)part * blocks / parts), end = (int)((long)(part + 1) * blocks / parts);
        return (Math.Min(units, first * block), Math.Min(units, end * block));
    }

    /// <summary>Runs <paramref name="body"/> over <paramref name="units"/> units cut into ranges of whole
    /// <paramref name="block"/>s on <paramref name="parts"/> threads, <paramref name="piecesPerThread"/> ranges per
    /// thread (1 for a body whose every range pays a fixed cost of its own: a Winograd layer split by filters transforms
    /// the whole input in each range), and returns when all are done.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No units, a block or pieces per thread below 1, or parts outside the pool's range.</exception>
    public void Run(int parts, LayerRange<TWorkspace> body, TWorkspace ws, ReadOnlySpan<float> input, Span<float> output,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int batch, int units, int block, int piecesPerThread = PiecesPerThread)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(block, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(piecesPerThread, 1);
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
            int blocks = (units + block - 1) / block;
            _pieces = (int)Math.Min(blocks, (long)parts * piecesPerThread);
            if (_started.Length < _pieces) _started = new int[_pieces];
            Array.Clear(_started, 0, _pieces);
            _callerThread = Environment.CurrentManagedThreadId;
            try
            {
                WorkerPool.Shared.RunParts(Math.Min(parts, _pieces), _runPart ??= RunPart);
            }
            finally
            {
                _body = null;
                _ws = null;
                _input = _output = _weight = _bias = null;
            }
        }
    }

    /// <summary>One thread's work: the ranges it owns, then any range the others have not started, walking back from
    /// the end of the share before its own.</summary>
    private void RunPart(int part, int parts)
    {
        int owner = Environment.CurrentManagedThreadId == _callerThread ? 0 : WorkerPool.CurrentWorkerNumber;
        if (owner >= parts) owner = part; // a thread of another pool size: any share will do
        int first = (int)((long)owner * _pieces / parts), end = (int)((long)(owner + 1) * _pieces / parts);
        for (int piece = first; piece < end; piece++) TryRun(piece);
        for (int k = 1; k <= _pieces; k++) TryRun(((first - k) % _pieces + _pieces) % _pieces);
    }

    private void TryRun(int piece)
    {
        if (Volatile.Read(ref _started[piece]) != 0 || Interlocked.Exchange(ref _started[piece], 1) != 0) return;
        (int start, int end) = Range(_units, _block, piece, _pieces);
        if (start >= end) return;
        _body!(_ws!, new ReadOnlySpan<float>(_input, _inputLength), new Span<float>(_output, _outputLength),
            new ReadOnlySpan<float>(_weight, _weightLength), new ReadOnlySpan<float>(_bias, _biasLength), _batch, start, end);
    }
}
