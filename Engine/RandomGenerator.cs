using System.Runtime.CompilerServices;

namespace NeuralCore.Engine;

/// <summary>
/// NeuralCore's seeded random generator: xoshiro256** (Blackman &amp; Vigna, 2018) seeded through SplitMix64.
/// It drives initialization, dropout, noise and shuffling, so one seed fixes a whole run.
/// </summary>
/// <remarks>
/// <para>
/// We do not use <see cref="Random"/>: its algorithm for a given seed is an implementation detail that .NET
/// has changed before. xoshiro256** is a fixed, published algorithm (64-bit state words, shifts, rotations and
/// one multiply), so the same seed gives the same bits on every machine and every .NET version.
/// </para>
/// <para>
/// Uniform floats use the top 24 bits (every float in [0, 1) at spacing 2⁻²⁴); normals use the Box–Muller
/// transform in double precision, rounded to float, so the last bit can only differ where the platform's
/// <c>Math.Log</c>/<c>Math.Cos</c> differ in the last bit of a double, which rounding to float absorbs.
/// </para>
/// <para>Not thread-safe: give each thread its own generator (e.g. <see cref="Fork"/>).</para>
/// </remarks>
public sealed class RandomGenerator
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    // Box–Muller makes normals in pairs; the second waits here.
    private double _spareNormal;
    private bool _hasSpareNormal;

    /// <summary>A generator whose whole sequence is fixed by <paramref name="seed"/>.</summary>
    public RandomGenerator(ulong seed)
    {
        // SplitMix64 spreads any seed (even 0) over the 256-bit state, which must not be all zeros.
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    /// <summary>A uniform float in [0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>), without modulo bias (Lemire's method).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong bound = (ulong)maxExclusive;
        // Scale a 32-bit draw r to r·bound / 2³²; the low word of the product tells when the draw fell in the
        // few values that would make small results more likely, and those draws are redrawn.
        ulong m = (NextUInt64() >> 32) * bound;
        if ((uint)m < bound)
        {
            uint threshold = (uint)((0x1_0000_0000UL - bound) % bound);
            while ((uint)m < threshold)
            {
                m = (NextUInt64() >> 32) * bound;
            }
        }
        return (int)(m >> 32);
    }

    /// <summary>A standard normal draw (mean 0, standard deviation 1), by the Box–Muller transform.</summary>
    public double NextNormal()
    {
        if (_hasSpareNormal)
        {
            _hasSpareNormal = false;
            return _spareNormal;
        }
        // 1 − u lies in (0, 1], so the logarithm is finite.
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        double angle = 2.0 * Math.PI * u2;
        _spareNormal = radius * Math.Sin(angle);
        _hasSpareNormal = true;
        return radius * Math.Cos(angle);
    }

    /// <summary>Fills <paramref name="destination"/> with uniform draws from [<paramref name="low"/>, <paramref name="high"/>).</summary>
    /// <exception cref="ArgumentException">A bound is not finite, or <paramref name="low"/> &gt; <paramref name="high"/>.</exception>
    public void FillUniform(Span<float> destination, float low = 0f, float high = 1f)
    {
        if (!float.IsFinite(low) || !float.IsFinite(high) || low > high)
        {
            throw new ArgumentException($"FillUniform: bounds [{low}, {high}) are invalid; expected finite low ≤ high.");
        }
        float width = high - low;
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = low + width * NextFloat();
        }
    }

    /// <summary>Fills <paramref name="destination"/> with normal draws of the given mean and standard deviation.</summary>
    /// <exception cref="ArgumentException">The mean is not finite, or the standard deviation is negative or not finite.</exception>
    public void FillNormal(Span<float> destination, float mean = 0f, float std = 1f)
    {
        if (!float.IsFinite(mean) || !float.IsFinite(std) || std < 0)
        {
            throw new ArgumentException($"FillNormal: mean {mean} and std {std} are invalid; expected finite values with std ≥ 0.");
        }
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)(mean + std * NextNormal());
        }
    }

    /// <summary>Puts <paramref name="items"/> in a uniformly random order (Fisher–Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// A new generator whose sequence is independent of this one's continuation (seeded from the next draw),
    /// e.g. one per data-loader worker.
    /// </summary>
    public RandomGenerator Fork() => new(NextUInt64());

    /// <summary>The full state, to save in a checkpoint; <see cref="SetState"/> resumes the sequence exactly.</summary>
    public ulong[] GetState() =>
        [_s0, _s1, _s2, _s3, _hasSpareNormal ? 1UL : 0UL, (ulong)BitConverter.DoubleToInt64Bits(_spareNormal)];

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    /// <exception cref="ArgumentException">The state does not have 6 words, or its 256-bit core is all zeros.</exception>
    public void SetState(ReadOnlySpan<ulong> state)
    {
        if (state.Length != 6 || (state[0] | state[1] | state[2] | state[3]) == 0)
        {
            throw new ArgumentException($"SetState: expected the 6 words GetState() returns with a non-zero core, got {state.Length} words.");
        }
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
        _hasSpareNormal = state[4] != 0;
        _spareNormal = BitConverter.Int64BitsToDouble((long)state[5]);
    }
}
