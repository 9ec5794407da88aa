namespace CnnGen.TrainProfile;

/// <summary>
/// <c>layers [--model cifar_vgg|cifar_resnet|all] [--repeats N] [--peak GFLOPS]</c>: a training step on one thread, layer
/// by layer: each layer's generated forward and backward methods; <c>step --model M [--threads T] [--repeats N]</c>: whole training steps in images/s;
/// <c>inference [--images 1,16] [--repeats N] [--peak GFLOPS]</c>: each 3x3 inference convolution, today's kernel against Winograd;
/// <c>forward --model M [--repeats N] [--batch N]</c>: whole evaluation-mode forward passes on one thread, in CPU time;
/// <c>products [--repeats N] [--peak GFLOPS]</c>: convolution products with their bias and ReLU, per shape;
/// <c>lanes [--rounds R] [--repeats N] [--peak GFLOPS]</c>: small maps' products, filters in rows against filters in lanes;
/// <c>prepare --model resnet18|mobilenetv2 [--threads T] [--repeats N]</c>: the weight preparation before each inference call, alone;
/// <c>stem [--rounds R] [--repeats N]</c>: the 224x224 networks' first layers in inference, each kernel against the one it replaced;
/// <c>expand [--repeats N] [--bands 2,4,8]</c>: MobileNetV2's expansion + depthwise pairs, two passes against one fused pass;
/// <c>split [--rounds R] [--repeats N]</c>: the CIFAR networks' split layers, the ranges of two threads against the whole layer, and the hand-over;
/// <c>wgrad [--rounds R] [--repeats N] [--peak GFLOPS]</c>: the CIFAR convolutions' weight gradients, im2col + product against the direct kernel;
/// <c>masks [--rounds R] [--repeats N]</c>: a residual block's output ReLU backward with the next shortcut's share, two passes against one.
/// </summary>
internal static class Cli
{
    public static int Run(string[] args)
    {
        try
        {
            if (args is ["products", ..])
            {
                ProductProfile.Print(int.Parse(Option(args, "--repeats", "21")), double.Parse(Option(args, "--peak", "220"), System.Globalization.CultureInfo.InvariantCulture));
                return 0;
            }
            if (args is ["lanes", ..])
            {
                FilterLanesProfile.Print(int.Parse(Option(args, "--rounds", "7")), int.Parse(Option(args, "--repeats", "21")),
                    double.Parse(Option(args, "--peak", "220"), System.Globalization.CultureInfo.InvariantCulture));
                return 0;
            }
            if (args is ["prepare", ..])
            {
                WeightPreparation.Print(Option(args, "--model", "resnet18"), int.Parse(Option(args, "--threads", "1")), int.Parse(Option(args, "--repeats", "7")));
                return 0;
            }
            if (args is ["stem", ..])
            {
                StemProfile.Print(int.Parse(Option(args, "--rounds", "7")), int.Parse(Option(args, "--repeats", "21")));
                return 0;
            }
            if (args is ["split", ..])
            {
                SplitProfile.Print(int.Parse(Option(args, "--rounds", "5")), int.Parse(Option(args, "--repeats", "21")));
                return 0;
            }
            if (args is ["wgrad", ..])
            {
                WeightGradientProfile.Print(int.Parse(Option(args, "--rounds", "5")), int.Parse(Option(args, "--repeats", "7")),
                    double.Parse(Option(args, "--peak", "220"), System.Globalization.CultureInfo.InvariantCulture));
                return 0;
            }
            if (args is ["masks", ..])
            {
                ShareMaskProfile.Print(int.Parse(Option(args, "--rounds", "5")), int.Parse(Option(args, "--repeats", "15")));
                return 0;
            }
            if (args is ["expand", ..])
                return ExpandDepthwiseProfile.Run(int.Parse(Option(args, "--repeats", "21")), Option(args, "--bands", "2,4,8").Split(',').Select(int.Parse).ToArray());
            if (args is ["depthwise", ..]) return DepthwiseProfile.Run(int.Parse(Option(args, "--repeats", "7")), double.Parse(Option(args, "--peak", "220"), System.Globalization.CultureInfo.InvariantCulture));
            if (args.Length == 0 || args[0] is not ("layers" or "step" or "inference" or "forward"))
                throw new ArgumentException("usage: layers [--model cifar_vgg|cifar_resnet|all] [--repeats N] [--peak GFLOPS] | step --model M [--threads T] [--repeats N]" +
                                            " | inference [--images 1,16] [--repeats N] [--peak GFLOPS] [--match TEXT] | forward --model M [--repeats N] [--batch N] | depthwise [--repeats N] [--peak GFLOPS]" +
                                            " | products [--repeats N] [--peak GFLOPS] | lanes [--rounds R] [--repeats N] [--peak GFLOPS] | prepare --model resnet18|mobilenetv2 [--threads T] [--repeats N] | stem [--rounds R] [--repeats N]" +
                                            " | expand [--repeats N] [--bands 2,4,8] | split [--rounds R] [--repeats N] | wgrad [--rounds R] [--repeats N] [--peak GFLOPS] | masks [--rounds R] [--repeats N]");
            string model = Option(args, "--model", args[0] == "layers" ? "all" : "cifar_vgg");
            int repeats = int.Parse(Option(args, "--repeats", "7"));
            if (args[0] == "forward") ForwardPasses.Print(model, repeats, int.Parse(Option(args, "--batch", "0")));
            else if (args[0] == "inference")
            {
                double peak = double.Parse(Option(args, "--peak", "220"), System.Globalization.CultureInfo.InvariantCulture);
                int[] images = Option(args, "--images", "1,16").Split(',').Select(int.Parse).ToArray();
                if (images.Any(n => n < 1)) throw new ArgumentException("--images: each count must be at least 1");
                InferenceProfile.Print(repeats, images, peak, Option(args, "--match", ""));
            }
            else if (args[0] == "layers")
            {
                double peak = double.Parse(Option(args, "--peak", "220"), System.Globalization.CultureInfo.InvariantCulture);
                foreach (var name in model == "all" ? ["cifar_vgg", "cifar_resnet"] : new[] { model })
                    LayerProfile.Print(name, repeats, peak);
            }
            else TrainingSteps.Print(model, int.Parse(Option(args, "--threads", "1")), repeats);
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
