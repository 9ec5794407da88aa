using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace CnnGen.Samples.Web;

/// <summary>The query of <c>POST /predict</c>: <c>top</c> (how many classes to list, 3 by default) and <c>invert</c>
/// (invert the grey levels: Fashion-MNIST shows light objects on black).</summary>
internal sealed record PredictQuery(int Top, bool Invert, string? Problem)
{
    public static PredictQuery Parse(IQueryCollection query, int classes)
    {
        int top = Math.Min(3, classes);
        if (query.TryGetValue("top", out var topText)
            && (!int.TryParse(topText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out top) || top < 1 || top > classes))
            return new PredictQuery(0, false, $"top={topText} is not a whole number from 1 to {classes}.");
        bool invert = false;
        if (query.TryGetValue("invert", out var invertText) && !TryParseFlag(invertText.ToString(), out invert))
            return new PredictQuery(0, false, $"invert={invertText} is not true, false, 1 or 0.");
        return new PredictQuery(top, invert, null);
    }

    private static bool TryParseFlag(string text, out bool value)
    {
        value = text is "1" || text.Equals("true", StringComparison.OrdinalIgnoreCase);
        return value || text is "0" || text.Equals("false", StringComparison.OrdinalIgnoreCase);
    }
}
