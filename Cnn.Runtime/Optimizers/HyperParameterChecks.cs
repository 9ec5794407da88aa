using System.Globalization;
using System.Runtime.CompilerServices;

namespace CnnGen.Optimizers;

/// <summary>Argument checks shared by the optimisers: NaN compares false with everything, so a plain
/// "not negative" check lets it through.</summary>
internal static class HyperParameterChecks
{
    public static void FiniteNonNegative(float value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (!float.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be a finite number of at least 0, not {value}."));
    }

    public static void InUnitInterval(double value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (!(value >= 0 && value < 1))
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be in [0, 1), not {value}."));
    }
}
