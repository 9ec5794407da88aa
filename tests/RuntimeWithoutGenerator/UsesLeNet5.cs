namespace Consumer;

/// <summary>Uses what the generator would have written, as any program declaring a network does.</summary>
public static class UsesLeNet5
{
    public static int Classify(float[] image) => new LeNet5(seed: 1).Predict(image);

    public static int Parameters => LeNet5.ParameterCount;
}
