using Microsoft.ML.OnnxRuntime;

namespace CnnGen.EngineRace;

/// <summary>ONNX Runtime's CPU provider on the exported model: <paramref name="threads"/> intra-op threads, one inter-op
/// thread, every graph optimisation. Inference only. Inputs and outputs are bound to the caller's arrays.</summary>
internal sealed class OnnxEngine : IEngine
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly List<OrtValue> _bound = [];
    private readonly long[] _imageShape;

    public OnnxEngine(string modelPath, INetwork network, int threads)
    {
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"ONNX model {modelPath} not found: run the export script first");
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(modelPath, options);
        _imageShape = [network.InputChannels, network.InputHeight, network.InputWidth];
        Description = $"ONNX Runtime {OrtEnv.Instance().GetVersionString()}";
    }

    public string Description { get; }

    public Action Inference(float[] inputs, float[] logits, int batch)
    {
        var input = OrtValue.CreateTensorValueFromMemory(inputs, [batch, .. _imageShape]);
        var output = OrtValue.CreateTensorValueFromMemory(logits, [batch, logits.Length / batch]);
        _bound.Add(input);
        _bound.Add(output);
        string[] inputNames = [_session.InputNames[0]], outputNames = [_session.OutputNames[0]];
        OrtValue[] inputValues = [input], outputValues = [output];
        return () => _session.Run(_runOptions, inputNames, inputValues, outputNames, outputValues);
    }

    public Func<float>? Training(float[] inputs, int[] labels, int batch) => null;

    public void Dispose()
    {
        foreach (var value in _bound) value.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
