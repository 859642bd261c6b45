using System.Buffers.Binary;
using System.Text;
using NeuralCore.Engine;

namespace NeuralCore.Tests.IO;

/// <summary>The seeded mutations the safetensors fuzz tests feed to every read path (stream, span, memory-mapped).</summary>
internal static class SafeTensorsFuzz
{
    private static readonly byte[] s_jsonBytes = Encoding.ASCII.GetBytes("{}[]\",:-.0123456789eE \\u");

    /// <summary>
    /// A copy of <paramref name="valid"/> with one kind of damage: 1–4 bit flips, a truncation, 1–3 JSON-ish bytes
    /// written into the header, or a random byte in the header length.
    /// </summary>
    public static byte[] Mutate(byte[] valid, RandomGenerator random)
    {
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        byte[] bytes = (byte[])valid.Clone();
        switch (random.NextInt(4))
        {
            case 0:
                for (int flips = 1 + random.NextInt(4); flips > 0; flips--)
                {
                    int bit = random.NextInt(bytes.Length * 8);
                    bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                }
                break;
            case 1:
                bytes = bytes[..random.NextInt(bytes.Length)];
                break;
            case 2:
                for (int edits = 1 + random.NextInt(3); edits > 0; edits--)
                {
                    bytes[8 + random.NextInt(headerEnd - 8)] = s_jsonBytes[random.NextInt(s_jsonBytes.Length)];
                }
                break;
            default:
                bytes[random.NextInt(8)] = (byte)random.NextInt(256);
                break;
        }
        return bytes;
    }
}
