namespace CnnGen.Parallelism;

/// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of one piece of work (see <see cref="WorkerPool.RunParts"/>).</summary>
public delegate void JobPart(int part, int parts);
