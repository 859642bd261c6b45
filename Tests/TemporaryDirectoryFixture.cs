using System.IO;
using NUnit.Framework;

namespace NeuralCore.Tests;

/// <summary>
/// A fixture whose every test gets a fresh, empty folder under the system's temporary path, deleted after the test:
/// for tests that write files (models, data sets, images) and must not see each other's.
/// </summary>
public abstract class TemporaryDirectoryFixture
{
    /// <summary>The current test's folder.</summary>
    protected string TestDirectory { get; private set; } = "";

    /// <summary>Creates the folder, named after the fixture so that a leftover one says where it came from.</summary>
    [SetUp]
    public void CreateTestDirectory()
    {
        TestDirectory = Path.Combine(Path.GetTempPath(), "neuralcore-" + GetType().Name + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(TestDirectory);
    }

    /// <summary>Deletes the folder and everything the test wrote into it.</summary>
    [TearDown]
    public void DeleteTestDirectory() => Directory.Delete(TestDirectory, recursive: true);
}
