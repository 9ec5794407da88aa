namespace CnnGen.Initialization;

/// <summary>How <c>InitializeParameters</c> draws the weights of convolutions and dense layers (seed 002). Biases start
/// at zero, BatchNorm at weight one and bias zero, whatever the scheme.</summary>
public enum WeightInitialization
{
    /// <summary>He before a ReLU-family activation, Xavier before anything else and for the last layer.</summary>
    Default,

    /// <summary>He: normal with <c>std = sqrt(2 / fan_in)</c> (<c>randn / sqrt(fan_in / 2)</c>), for every layer.</summary>
    He,

    /// <summary>Xavier: normal with <c>std = sqrt(1 / fan_in)</c> (<c>randn / sqrt(fan_in)</c>), for every layer.</summary>
    Xavier,

    /// <summary>Small random numbers: normal with <c>std = 0.01</c> (<c>randn * 0.01</c>); signals shrink layer by layer in a deep network.</summary>
    SmallGaussian,

    /// <summary>All zeros, what seed 002 warns against: every unit of a layer computes the same and gets the same gradient,
    /// so the units never become different (with ReLU, nothing but the last bias ever learns).</summary>
    Zeros,
}

/// <summary>Draws one weight tensor by a <see cref="WeightInitialization"/> scheme.</summary>
public static class WeightInit
{
    /// <summary>The standard deviation a scheme gives a layer with <paramref name="fanIn"/> inputs per output
    /// (<paramref name="reluFollows"/>: a ReLU-family activation acts on its output and it is not the last layer).</summary>
    public static double Std(WeightInitialization scheme, long fanIn, bool reluFollows) => scheme switch
    {
        WeightInitialization.Default => Math.Sqrt((reluFollows ? 2.0 : 1.0) / fanIn),
        WeightInitialization.He => Math.Sqrt(2.0 / fanIn),
        WeightInitialization.Xavier => Math.Sqrt(1.0 / fanIn),
        WeightInitialization.SmallGaussian => 0.01,
        WeightInitialization.Zeros => 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "unknown weight initialisation"),
    };

    /// <summary>Fills <paramref name="weights"/> with normal numbers of the scheme's standard deviation (zeros for <see cref="WeightInitialization.Zeros"/>).</summary>
    public static void Fill(NormalRandom random, Span<float> weights, WeightInitialization scheme, long fanIn, bool reluFollows)
    {
        if (scheme == WeightInitialization.Zeros) weights.Clear();
        else random.FillNormal(weights, Std(scheme, fanIn, reluFollows));
    }
}
