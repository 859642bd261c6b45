using System.IO;
using System.Text;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>Writes a file through a temporary name renamed over the target, so a crash never leaves half a report.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temporary, path, overwrite: true);
    }
}
