namespace CnnGen.EngineRace;

/// <summary>One engine running one network with fixed buffers: each method binds the buffers once and returns the
/// call that the race times, so binding costs nothing per call.</summary>
internal interface IEngine : IDisposable
{
    /// <summary>Name and version, e.g. <c>ONNX Runtime 1.31.1</c>.</summary>
    string Description { get; }

    /// <summary>A forward pass of <paramref name="batch"/> images from <paramref name="inputs"/> into
    /// <paramref name="logits"/> (evaluation mode).</summary>
    Action Inference(float[] inputs, float[] logits, int batch);

    /// <summary>A training step on <paramref name="batch"/> images: forward, softmax cross-entropy, backward, SGD with
    /// momentum 0.9; the call returns the loss. Null when the engine does not train.</summary>
    Func<float>? Training(float[] inputs, int[] labels, int batch);
}
