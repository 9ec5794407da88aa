using CnnGen.Optimizers;
using Xunit;

namespace CnnGen.Training.Tests.Optimizers;

/// <summary>NaN and infinite hyper-parameters are refused, naming the parameter (NaN used to pass "not negative").</summary>
public class HyperParameterTests
{
    public static TheoryData<float> NotFinite => [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -1f];

    [Theory]
    [MemberData(nameof(NotFinite))]
    public void SgdRefusesThem(float value)
    {
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(value)).ParamName);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0.1f, momentum: value)).ParamName);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0.1f, weightDecay: value));
        Assert.Equal("weightDecay", e.ParamName);
        Assert.StartsWith("weightDecay must be a finite number of at least 0, not ", e.Message);
    }

    [Theory]
    [MemberData(nameof(NotFinite))]
    public void AdamAndAdamWRefuseThem(float value)
    {
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(value)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(epsilon: value)).ParamName);
        Assert.Equal("weightDecay", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(weightDecay: value)).ParamName);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    public void AdamRefusesBetasOutsideTheUnitInterval(double beta)
    {
        Assert.Equal("beta1", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: beta)).ParamName);
        Assert.Equal("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta2: beta)).ParamName);
    }
}
