namespace CnnGen.EngineRace;

/// <summary>The inputs every engine sees: the same seeded random images and labels in every process.</summary>
internal static class RaceData
{
    /// <summary>The batch-inference figure's batch unless the model sets its own (<see cref="RaceModel.InferenceBatch"/>).</summary>
    public const int InferenceBatch = 256;
    public const int TrainingBatch = 64, CheckBatch = 8;

    /// <summary><paramref name="count"/> images of <paramref name="inputLength"/> values in [-0.3, 0.7).</summary>
    public static float[] Images(int count, int inputLength)
    {
        var random = new Random(1);
        var values = new float[inputLength * count];
        for (int i = 0; i < values.Length; i++) values[i] = (float)random.NextDouble() - 0.3f;
        return values;
    }

    public static int[] Labels(int count, int classes)
    {
        var random = new Random(2);
        return Enumerable.Range(0, count).Select(_ => random.Next(classes)).ToArray();
    }
}
