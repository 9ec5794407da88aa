namespace CnnGen.Optimizers;

/// <summary>
/// Adam with PyTorch's <c>torch.optim.Adam</c> semantics: <c>g += wd*p</c>; <c>m = b1*m + (1-b1)*g</c>;
/// <c>v = b2*v + (1-b2)*g*g</c>; <c>p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)</c>.
/// With decoupled weight decay (<see cref="AdamW"/>) the decay is <c>p *= 1 - lr*wd</c> before the update instead.
/// </summary>
public class Adam : IOptimizer
{
    public const string FirstMomentSlot = "exp_avg";
    public const string SecondMomentSlot = "exp_avg_sq";

    private float[]? _firstMoment;
    private float[]? _secondMoment;

    public Adam(float learningRate = 1e-3f, double beta1 = 0.9, double beta2 = 0.999, float epsilon = 1e-8f, float weightDecay = 0f)
        : this(learningRate, beta1, beta2, epsilon, weightDecay, decoupled: false) { }

    protected Adam(float learningRate, double beta1, double beta2, float epsilon, float weightDecay, bool decoupled)
    {
        HyperParameterChecks.FiniteNonNegative(learningRate);
        HyperParameterChecks.InUnitInterval(beta1);
        HyperParameterChecks.InUnitInterval(beta2);
        HyperParameterChecks.FiniteNonNegative(epsilon);
        HyperParameterChecks.FiniteNonNegative(weightDecay);
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        DecoupledWeightDecay = decoupled;
    }

    public virtual string Name => "Adam";
    public float LearningRate { get; set; }
    /// <summary>Decay of the first moment. Kept in double, like PyTorch's Python float, so <c>1 - beta</c> rounds as it does there.</summary>
    public double Beta1 { get; }
    /// <summary>Decay of the second moment (double, as <see cref="Beta1"/>).</summary>
    public double Beta2 { get; }
    public float Epsilon { get; }
    public float WeightDecay { get; }
    public bool DecoupledWeightDecay { get; }
    public long StepCount { get; private set; }

    public IReadOnlyDictionary<string, string> HyperParameters => new Dictionary<string, string>
    {
        ["beta1"] = OptimizerState.Text(Beta1),
        ["beta2"] = OptimizerState.Text(Beta2),
        ["eps"] = OptimizerState.Text(Epsilon),
        ["weight_decay"] = OptimizerState.Text(WeightDecay),
    };

    public IReadOnlyList<string> StateSlots => [FirstMomentSlot, SecondMomentSlot];

    public IReadOnlyDictionary<string, float[]> State => _firstMoment is null || _secondMoment is null
        ? new Dictionary<string, float[]>()
        : new Dictionary<string, float[]> { [FirstMomentSlot] = _firstMoment, [SecondMomentSlot] = _secondMoment };

    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        OptimizerState.CheckLengths(Name, parameters.Length, gradients.Length, _firstMoment);
        int n = parameters.Length;
        _firstMoment ??= new float[n];
        _secondMoment ??= new float[n];
        long step = StepCount + 1;
        double biasCorrection1 = 1.0 - Math.Pow(Beta1, step);
        double biasCorrection2 = 1.0 - Math.Pow(Beta2, step);
        bool decoupled = DecoupledWeightDecay && WeightDecay != 0f;
        var rule = new AdamUpdate.Rule(
            Decoupled: decoupled,
            Decay: decoupled ? 1f - LearningRate * WeightDecay : 1f,
            WeightDecay: DecoupledWeightDecay ? 0f : WeightDecay,
            Beta1: (float)Beta1, OneMinusBeta1: (float)(1 - Beta1),
            Beta2: (float)Beta2, OneMinusBeta2: (float)(1 - Beta2),
            StepSize: (float)(LearningRate / biasCorrection1),
            BiasCorrection2Sqrt: (float)Math.Sqrt(biasCorrection2),
            Epsilon: Epsilon);
        AdamUpdate.Step(parameters, gradients, _firstMoment, _secondMoment, rule);
        StepCount = step;
    }

    public void LoadState(IReadOnlyDictionary<string, float[]> state, long stepCount)
    {
        OptimizerState.Validate(Name, StateSlots, state, stepCount);
        _firstMoment = OptimizerState.Copy(state, FirstMomentSlot);
        _secondMoment = OptimizerState.Copy(state, SecondMomentSlot);
        StepCount = stepCount;
    }

    public void Reset()
    {
        _firstMoment = null;
        _secondMoment = null;
        StepCount = 0;
    }
}
