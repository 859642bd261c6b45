namespace NeuralCore.Engine.Kernels;

/// <summary>
/// How C is split among threads: into a grid of row parts × column parts, boundaries on whole tiles. The depth k is
/// never split, so no two threads ever add into the same element and the sum's order is that of one thread.
/// </summary>
internal static class GemmPartition
{
    /// <summary>
    /// Chooses the grid for at most <paramref name="threads"/> parts. Each column part packs all of its rows of A, and each
    /// row part all of its columns of B, so a split repeats packing work: (colParts − 1)·m·k extra for A and
    /// (rowParts − 1)·k·n extra for B. The grid with the least repeated packing wins; for the MLP (m = 100, n = 1000)
    /// that splits columns, for a tall TN backward (m = 1000, n = 784) it splits rows.
    /// </summary>
    public static (int RowParts, int ColParts) Choose(int m, int n, int mr, int nr, int threads)
    {
        int rowTiles = (m + mr - 1) / mr;
        int colTiles = (n + nr - 1) / nr;

        // Fewer threads than asked when C has too few tiles to give each one a part.
        for (int t = threads; t > 1; t--)
        {
            (int RowParts, int ColParts) best = (0, 0);
            double bestCost = double.MaxValue;
            for (int rowParts = 1; rowParts <= t; rowParts++)
            {
                int colParts = t / rowParts;
                if (rowParts * colParts != t || rowParts > rowTiles || colParts > colTiles)
                {
                    continue;
                }
                double cost = ((colParts - 1) * (double)m) + ((rowParts - 1) * (double)n);
                if (cost < bestCost)
                {
                    bestCost = cost;
                    best = (rowParts, colParts);
                }
            }
            if (best.RowParts > 0)
            {
                return best;
            }
        }
        return (1, 1);
    }

    /// <summary>The range of part <paramref name="index"/> of <paramref name="parts"/> over <paramref name="total"/>, in whole units.</summary>
    public static (int Start, int End) Range(int total, int unit, int parts, int index)
    {
        long units = (total + (long)unit - 1) / unit;
        int start = (int)(units * index / parts * unit);
        int end = (int)Math.Min(total, units * (index + 1) / parts * unit);
        return (Math.Min(start, total), end);
    }
}
