using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using CnnGen;
using CnnGen.Initialization;
using CnnGen.SimdCheck;

// Prints a SHA-256 digest of the raw float bytes of every kernel's results and of every network's outputs, loss and
// gradients on fixed parameters and inputs. Run it with and without DOTNET_EnableAVX512F=0 / DOTNET_EnableHWIntrinsic=0:
// the digests must not change. Lines starting with '#' describe the run and are not digests.

Console.WriteLine($"# Vector512 {Vector512.IsHardwareAccelerated} Vector256 {Vector256.IsHardwareAccelerated} Vector128 {Vector128.IsHardwareAccelerated}");

foreach (var (name, values) in KernelDigests.All())
    Console.WriteLine($"kernel {name} {Digest(values)}");

foreach (var net in new INetwork[] { new LeNet5(1), new MixedNet(2), new WideNet(3), new BatchNormNet(4), new BatchNormNet(5) { Training = true }, new DilatedNet(6), new WinogradNet(7), new DepthwiseNet(8), new DirectWeightGradientNet(9), new DirectWeightGradientBatchNormNet(10) { Training = true }, new StemNet(11) })
{
    // Non-zero biases so that every unit is off its kink.
    var random = new NormalRandom(17);
    foreach (var t in net.Tensors.Where(t => t.Name.EndsWith(".bias")))
        random.FillNormal(net.Parameters.Slice(t.Offset, t.Length), 0.1);
    const int batch = 5;
    var inputs = new float[net.InputLength * batch];
    random.FillNormal(inputs, 1.0);
    var labels = new int[batch];
    for (int b = 0; b < batch; b++) labels[b] = random.NextInt(net.OutputLength);

    var outputs = new float[net.OutputLength * batch];
    net.Forward(inputs, outputs, batch);
    Console.WriteLine($"{net.Name} outputs {Digest(outputs)}");
    float loss = net.ComputeGradients(inputs, labels, batch);
    Console.WriteLine($"{net.Name} loss {Digest([loss])}");
    foreach (var t in net.Tensors)
        Console.WriteLine($"{net.Name} grad {t.Name} {Digest(net.Gradients.Slice(t.Offset, t.Length).ToArray())}");
    foreach (var t in net.StateTensors)
        Console.WriteLine($"{net.Name} state {t.Name} {Digest(net.State.Slice(t.Offset, t.Length).ToArray())}");
}

static string Digest(float[] values) => Convert.ToHexString(SHA256.HashData(MemoryMarshal.AsBytes(values.AsSpan())))[..16];
