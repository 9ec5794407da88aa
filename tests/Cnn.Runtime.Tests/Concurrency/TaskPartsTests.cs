using CnnGen.Parallelism;
using Xunit;

namespace CnnGen.Tests.Concurrency;

/// <summary>
/// <see cref="TaskParts.Of"/> deals tasks numbered from the most costly down to the parts in a snake, so every part
/// gets one task of each round and the parts' totals stay close; every task goes to exactly one part.
/// </summary>
public class TaskPartsTests
{
    [Fact]
    public void TasksGoOutInASnake()
    {
        Assert.Equal(new[] { 0, 1, 1, 0, 0, 1, 1, 0 }, Enumerable.Range(0, 8).Select(t => TaskParts.Of(t, 2)).ToArray());
        Assert.Equal(new[] { 0, 1, 2, 2, 1, 0, 0, 1, 2 }, Enumerable.Range(0, 9).Select(t => TaskParts.Of(t, 3)).ToArray());
        Assert.All(Enumerable.Range(0, 10), t => Assert.Equal(0, TaskParts.Of(t, 1)));
    }

    [Fact]
    public void TheCifarVggsPreparationSplitsNearlyEvenlyOverTwoParts()
    {
        // Values each task of the CIFAR VGG's training-weight preparation writes, most first (conv6's input-gradient and
        // forward transforms, conv5's, ...): the two parts' totals within 10% of each other.
        long[] values = { 737_280, 589_824, 368_640, 294_912, 184_320, 147_456, 92_160, 73_728, 46_080, 36_864 };
        var totals = new long[2];
        for (int t = 0; t < values.Length; t++) totals[TaskParts.Of(t, 2)] += values[t];
        Assert.Equal(values.Sum(), totals.Sum());
        Assert.InRange((double)totals.Max() / totals.Min(), 1.0, 1.1);
    }

    [Fact]
    public void NegativeTasksAndFewerThanOnePartAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TaskParts.Of(-1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => TaskParts.Of(0, 0));
    }
}
