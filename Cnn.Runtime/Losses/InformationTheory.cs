namespace CnnGen.Losses;

/// <summary>
/// Entropy, cross-entropy and KL divergence of discrete distributions, in nats (natural logarithms, as PyTorch), after
/// seed 004. <c>H(p) = -sum p log p</c> is the uncertainty of <c>p</c>; <c>H(p, q) = -sum p log q</c> the cost of coding
/// samples of <c>p</c> with <c>q</c>; <c>KL(p || q) = sum p log(p / q) = H(p, q) - H(p) &gt;= 0</c>, zero only when
/// <c>q = p</c>, and not symmetric. For classification <c>p</c> is the label (fixed), so <c>H(p)</c> is a constant:
/// minimising the cross-entropy minimises the KL divergence with the same gradient (softmax minus <c>p</c> with respect to
/// the logits) and less work, which is why training uses the cross-entropy. Terms with <c>p = 0</c> count as zero.
/// </summary>
public static class InformationTheory
{
    /// <summary><c>H(p) = -sum_i p_i log p_i</c>.</summary>
    public static double Entropy(ReadOnlySpan<float> p)
    {
        CheckDistribution(p, nameof(p));
        double h = 0;
        foreach (float pi in p)
            if (pi > 0) h -= pi * Math.Log(pi);
        return h;
    }

    /// <summary><c>H(p, q) = -sum_i p_i log q_i</c>: infinite when <c>q</c> gives zero to an outcome <c>p</c> does not.</summary>
    public static double CrossEntropy(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        CheckPair(p, q);
        double h = 0;
        for (int i = 0; i < p.Length; i++)
            if (p[i] > 0) h -= p[i] * Math.Log(q[i]);
        return h;
    }

    /// <summary><c>KL(p || q) = sum_i p_i log(p_i / q_i)</c>, PyTorch's <c>F.kl_div(q.log(), p, reduction="sum")</c>.</summary>
    public static double KlDivergence(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        CheckPair(p, q);
        double d = 0;
        for (int i = 0; i < p.Length; i++)
            if (p[i] > 0) d += p[i] * (Math.Log(p[i]) - Math.Log(q[i]));
        return d;
    }

    private static void CheckPair(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        if (p.Length != q.Length)
            throw new ArgumentException($"p has {p.Length} outcomes but q has {q.Length}; both must be distributions over the same outcomes.");
        CheckDistribution(p, nameof(p));
        CheckDistribution(q, nameof(q));
    }

    private static void CheckDistribution(ReadOnlySpan<float> p, string name)
    {
        if (p.IsEmpty) throw new ArgumentException($"{name} is empty.", name);
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            if (!(p[i] >= 0) || float.IsInfinity(p[i]))
                throw new ArgumentException($"{name}[{i}] is {p[i]}; probabilities must be finite and non-negative.", name);
            sum += p[i];
        }
        if (Math.Abs(sum - 1) > 1e-3)
            throw new ArgumentException($"{name} sums to {sum}, not 1.", name);
    }
}
