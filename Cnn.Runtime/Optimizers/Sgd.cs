namespace CnnGen.Optimizers;

/// <summary>
/// Stochastic gradient descent with PyTorch's <c>torch.optim.SGD</c> semantics:
/// <c>d = g + wd*p</c>; with momentum <c>buf = d</c> on the first step, then <c>buf = momentum*buf + (1-dampening)*d</c>;
/// Nesterov <c>d = d + momentum*buf</c>, otherwise <c>d = buf</c>; finally <c>p -= lr*d</c>.
/// </summary>
public sealed class Sgd : IOptimizer
{
    public const string MomentumSlot = "momentum_buffer";

    private float[]? _momentumBuffer;

    public Sgd(float learningRate, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
    {
        HyperParameterChecks.FiniteNonNegative(learningRate);
        HyperParameterChecks.FiniteNonNegative(momentum);
        HyperParameterChecks.FiniteNonNegative(weightDecay);
        if (nesterov && (momentum <= 0f || dampening != 0f))
            throw new ArgumentException("Nesterov momentum requires a positive momentum and zero dampening");
        LearningRate = learningRate;
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    public string Name => "SGD";
    public float LearningRate { get; set; }
    public float Momentum { get; }
    public float Dampening { get; }
    public float WeightDecay { get; }
    public bool Nesterov { get; }
    public long StepCount { get; private set; }

    public IReadOnlyDictionary<string, string> HyperParameters => new Dictionary<string, string>
    {
        ["momentum"] = OptimizerState.Text(Momentum),
        ["dampening"] = OptimizerState.Text(Dampening),
        ["weight_decay"] = OptimizerState.Text(WeightDecay),
        ["nesterov"] = Nesterov ? "true" : "false",
    };

    public IReadOnlyList<string> StateSlots => Momentum != 0f ? [MomentumSlot] : [];

    public IReadOnlyDictionary<string, float[]> State => _momentumBuffer is null
        ? new Dictionary<string, float[]>()
        : new Dictionary<string, float[]> { [MomentumSlot] = _momentumBuffer };

    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        OptimizerState.CheckLengths(Name, parameters.Length, gradients.Length, _momentumBuffer);
        bool firstStep = Momentum != 0f && _momentumBuffer is null;
        if (firstStep) _momentumBuffer = new float[parameters.Length];
        SgdUpdate.Step(parameters, gradients, _momentumBuffer, new SgdUpdate.Rule(LearningRate, Momentum, 1f - Dampening, WeightDecay, Nesterov), firstStep);
        StepCount++;
    }

    public void LoadState(IReadOnlyDictionary<string, float[]> state, long stepCount)
    {
        OptimizerState.Validate(Name, StateSlots, state, stepCount);
        _momentumBuffer = OptimizerState.Copy(state, MomentumSlot);
        StepCount = stepCount;
    }

    public void Reset()
    {
        _momentumBuffer = null;
        StepCount = 0;
    }
}
