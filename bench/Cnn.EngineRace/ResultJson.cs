using System.Text.Json;
using CnnGen.Samples.Json;

namespace CnnGen.EngineRace;

/// <summary>A <see cref="RaceResult"/> or a <see cref="MachineState.Result"/> as one line of JSON on standard output, for
/// the driver script.</summary>
internal static class ResultJson
{
    public static void Write(RaceResult result)
    {
        using var stream = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("engine", result.Engine);
            w.WriteString("model", result.Model);
            w.WriteNumber("threads", result.Threads);
            w.WriteNumber("forward_macs", result.ForwardMacs);
            w.WriteNumber("repeats", result.Repeats);
            w.WritePropertyName("latency_b1_us");
            Write(w, result.Latency);
            w.WritePropertyName($"infer_b{result.InferenceBatch}_ips");
            Write(w, result.Inference);
            w.WritePropertyName($"train_b{RaceData.TrainingBatch}_ips");
            if (result.Training is null) w.WriteNullValue(); else Write(w, result.Training);
            if (result.FinalLoss is float loss) w.WriteNumber("train_final_loss", loss); else w.WriteNull("train_final_loss");
            if (result.TrainingPeakMiB is double peak) w.WriteNumber("train_peak_rss_mib", Math.Round(peak, 1)); else w.WriteNull("train_peak_rss_mib");
            // A logit that is not finite (an engine's broken output) is written as null: the table counts it as an error
            // beyond any limit.
            FiniteJson.WriteValues(w, "check_logits", result.CheckLogits);
            FiniteJson.WriteValues(w, "check_logits_again", result.CheckLogitsAgain);
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
    }

    public static void Write(MachineState.Result state)
    {
        using var stream = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            WriteRounded(w, "kernel_us_by_cpu", state.KernelUsByCpu);
            WriteRounded(w, "kernel_us_together", state.KernelUsTogether);
            WriteRounded(w, "own_write_us_per_mib", state.OwnWrite);
            WriteRounded(w, "write_after_other_read_us_per_mib", state.WriteAfterOtherRead);
            WriteRounded(w, "read_after_other_write_us_per_mib", state.ReadAfterOtherWrite);
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
    }

    private static void WriteRounded(Utf8JsonWriter w, string name, double[] values)
    {
        w.WriteStartArray(name);
        foreach (double v in values) w.WriteNumberValue(Math.Round(v, 1));
        w.WriteEndArray();
    }

    private static void WriteRounded(Utf8JsonWriter w, string name, double? value)
    {
        if (value is double v) w.WriteNumber(name, Math.Round(v, 1)); else w.WriteNull(name);
    }

    private static void Write(Utf8JsonWriter w, Timings timings)
    {
        w.WriteStartObject();
        w.WriteNumber("median", Math.Round(timings.Median, 3));
        w.WriteNumber("min", Math.Round(timings.Min, 3));
        w.WriteNumber("max", Math.Round(timings.Max, 3));
        w.WriteEndObject();
    }
}
