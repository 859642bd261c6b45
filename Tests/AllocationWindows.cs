namespace NeuralCore.Tests;

/// <summary>
/// Measures what a repeated action allocates on the calling thread, robustly: the managed bytes of the quietest of a
/// few windows of calls.
/// </summary>
/// <remarks>
/// Once in a while something outside the action allocates on the test's thread during a window: 3–7 KB was seen in
/// CI, in the full suite only, never in a test run alone (a shared array pool trimmed by another test's garbage
/// collection would do it). An allocation made by the action itself shows in every window, so the quietest one still
/// catches it.
/// </remarks>
internal static class AllocationWindows
{
    /// <summary>
    /// Runs <paramref name="action"/> <paramref name="calls"/> times in each of <paramref name="windows"/> windows and
    /// returns the fewest bytes the calling thread allocated in one window (all its calls together).
    /// </summary>
    public static long QuietestWindow(Action action, int calls, int windows = 3)
    {
        long fewest = long.MaxValue;
        for (int window = 0; window < windows; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++)
            {
                action();
            }
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
