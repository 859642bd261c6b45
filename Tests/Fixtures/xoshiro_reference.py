#!/usr/bin/env python3
"""Reference outputs of SplitMix64-seeded xoshiro256** (Blackman & Vigna), written independently of the C#
code, for Tests/Engine/RandomGeneratorTests.cs. Run: python3 Tests/Fixtures/xoshiro_reference.py"""
M = (1 << 64) - 1

def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return x, z ^ (z >> 31)

def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M

def xoshiro(seed, n):
    s = []
    x = seed
    for _ in range(4):
        x, z = splitmix64(x)
        s.append(z)
    out = []
    for _ in range(n):
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
        out.append(result)
    return out

for seed in (0, 42):
    print(seed, ", ".join(f"0x{v:016X}UL" for v in xoshiro(seed, 4)))
