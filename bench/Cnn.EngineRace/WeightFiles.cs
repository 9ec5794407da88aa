using CnnGen.Checkpoints;

namespace CnnGen.EngineRace;

/// <summary>The weights every engine runs: a fresh seeded network whose BatchNorm running statistics are those of the
/// check batch (<see cref="BatchNormStatistics"/>, so evaluation mode is not the identity), saved as a safetensors
/// checkpoint under PyTorch's names, with the check batch's images as raw little-endian float32 for the export script.</summary>
internal static class WeightFiles
{
    public static void Save(RaceModel model, string directory)
    {
        Directory.CreateDirectory(directory);
        var network = model.Create();
        var check = RaceData.Images(RaceData.CheckBatch, network.InputLength);
        if (network.StateTensors.Count > 0) BatchNormStatistics.FromOneBatch(network, check, RaceData.CheckBatch);
        Checkpoint.Save(model.CheckpointPath(directory), network);
        var bytes = new byte[check.Length * sizeof(float)];
        Buffer.BlockCopy(check, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(model.CheckInputsPath(directory), bytes);
    }

    /// <summary>The saved network, loaded into a fresh instance (the checkpoint is validated in full).</summary>
    public static INetwork Load(RaceModel model, string directory)
    {
        string path = model.CheckpointPath(directory);
        if (!File.Exists(path))
            throw new FileNotFoundException($"checkpoint {path} not found: run the 'save' mode first");
        var network = model.Create();
        Checkpoint.Load(path, network);
        return network;
    }
}
