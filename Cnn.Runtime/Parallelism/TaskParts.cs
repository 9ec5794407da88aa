namespace CnnGen.Parallelism;

/// <summary>
/// Which part of a piece of work runs each of its tasks, when the tasks are numbered from the most costly down: dealt
/// out to the parts in a snake (0, 1, ..., parts - 1, parts - 1, ..., 0, 0, 1, ...), so each part gets one of every
/// round of tasks and the parts' totals stay close. Depends only on the task and the part count.
/// </summary>
public static class TaskParts
{
    /// <summary>The part (0 to <paramref name="parts"/> - 1) that runs task <paramref name="task"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative task, or fewer than one part.</exception>
    public static int Of(int task, int parts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(task);
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        int turn = task % (2 * parts);
        return turn < parts ? turn : 2 * parts - 1 - turn;
    }
}
