namespace CnnGen;

/// <summary>
/// What every generated network offers, so that training, checkpoints and tools work with any of them.
/// A generated class implements it; its shapes are constants of that class.
/// </summary>
/// <remarks>
/// Threads: one instance runs one call at a time. <c>Forward</c>, <c>Predict</c>, <c>Activations</c> and
/// <see cref="ComputeGradients"/> use the instance's own workspaces, so a second of these calls made from another
/// thread while one is running throws <see cref="InvalidOperationException"/> (nothing is computed or changed by the
/// refused call). Serve concurrent requests with one instance per thread (or a pool of instances, each holding a copy
/// of <see cref="Parameters"/> and <see cref="State"/>). Within a call, <see cref="Threads"/> splits the batch over the
/// shared worker pool; results are the same bits on every run with the same thread count. Setting properties
/// (<see cref="Threads"/>, <see cref="Training"/>) or parameters during a call is not supported.
/// </remarks>
public interface INetwork
{
    /// <summary>The declaring class's name, e.g. <c>LeNet5</c>.</summary>
    string Name { get; }
    int InputChannels { get; }
    int InputHeight { get; }
    int InputWidth { get; }
    /// <summary>Values per input image: channels x height x width.</summary>
    int InputLength { get; }
    /// <summary>Values per output: the number of classes.</summary>
    int OutputLength { get; }
    int ParameterCount { get; }
    IReadOnlyList<LayerInfo> Layers { get; }
    IReadOnlyList<TensorInfo> Tensors { get; }
    /// <summary>The architecture table printed by <c>summary</c>.</summary>
    string Summary { get; }
    /// <summary>A hash of the architecture (layers, shapes, tensors); equal for equal architectures.</summary>
    string Fingerprint { get; }

    /// <summary>All parameters in one contiguous buffer, laid out as <see cref="Tensors"/> says.</summary>
    Span<float> Parameters { get; }
    /// <summary>Gradients of the last <see cref="ComputeGradients"/> call, same layout as <see cref="Parameters"/>.</summary>
    Span<float> Gradients { get; }
    /// <summary>The named tensor's slice of <see cref="Parameters"/>; throws <see cref="ArgumentException"/> for an unknown name.</summary>
    Span<float> Parameter(string name);

    /// <summary>Tensors saved and loaded with the parameters but not trained: each BatchNorm's <c>running_mean</c>,
    /// <c>running_var</c> and <c>num_batches_tracked</c>. Empty for a network without BatchNorm.</summary>
    IReadOnlyList<TensorInfo> StateTensors { get; }

    /// <summary>The state tensors' values, one buffer laid out as <see cref="StateTensors"/> says. Training mode updates them;
    /// optimisers never see them.</summary>
    Span<float> State { get; }

    /// <summary>Runs <paramref name="batchSize"/> images (each C,H,W row-major) through the network.
    /// Outputs are probabilities when the network ends in <c>[Softmax]</c>, logits otherwise.</summary>
    void Forward(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize);

    /// <summary>Forward, softmax cross-entropy averaged over the batch, backward: overwrites <see cref="Gradients"/>
    /// and returns the mean loss. Updates no parameter.</summary>
    float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize);

    /// <summary>Images of the last <see cref="ComputeGradients"/> batch whose highest logit was their label.</summary>
    int LastCorrect { get; }

    /// <summary>Worker threads a batch is split over (1 by default). Results are deterministic for a given count.</summary>
    int Threads { get; set; }

    /// <summary>When an evaluation-mode <c>Forward</c> or <c>Predict</c> has fewer images than <see cref="Threads"/>, split
    /// each large layer of an image over the threads. Outputs are the same bits either way. The generator chooses the
    /// default: true for networks of 20 million multiply-adds per image or more (CIFAR-size VGG and ResNet, MobileNetV2
    /// and ResNet-18 at 224), where one image measured 1.24-1.8x faster on two cores than on one when nothing else ran;
    /// false for smaller ones (LeNet-5), whose calls of one image then run on one thread. With the other core busy a
    /// split pass can be slower than one thread.</summary>
    bool SplitImages { get; set; }

    /// <summary>Weights that do not change between calls, for deployment (false by default). An evaluation-mode pass
    /// derives weights from <see cref="Parameters"/> and <see cref="State"/> (each BatchNorm folded into the convolution
    /// before it, Winograd-transformed filters) and, by default, checks on every call whether they changed, which reads
    /// every weight: on ResNet-18 about a tenth of one image's time. With this set, the derived weights are prepared by
    /// the first evaluation pass and reused until the weights can have changed through the network: setting this
    /// property again, reading <see cref="Parameters"/>, <see cref="State"/> or <see cref="Parameter"/> (which is how
    /// optimisers, checkpoint loading and the trainer reach them), <see cref="InitializeParameters"/>, a training-mode
    /// pass or <see cref="ComputeGradients"/>. A write through a span obtained before the last pass is not seen: set
    /// this property again after such a write. Outputs are the same bits either way.</summary>
    bool FixedWeights { get; set; }

    /// <summary>Training mode (dropout drops, BatchNorm normalises by the batch and updates its running statistics);
    /// false, the default, is evaluation mode.</summary>
    bool Training { get; set; }

    /// <summary>The training step whose dropout masks are drawn; the trainer sets the optimiser's step count.</summary>
    long Step { get; set; }

    /// <summary>Stops training a layer with parameters (fine-tuning): its gradients are not computed, and the trainer
    /// leaves its parameters unchanged (a frozen BatchNorm still updates its running statistics in training mode, as in
    /// PyTorch). Throws <see cref="ArgumentException"/> for an unknown layer or one without parameters.</summary>
    void Freeze(string layer);

    /// <summary>Lets a frozen layer train again.</summary>
    void Unfreeze(string layer);

    /// <summary>Whether a layer with parameters is frozen (by <c>Frozen = true</c> or <see cref="Freeze"/>).</summary>
    bool IsFrozen(string layer);

    /// <summary>Every layer's output for one image in evaluation mode, in <see cref="Layers"/> order (each C,H,W
    /// row-major), for visualising feature maps. Allocates its result.</summary>
    float[][] Activations(ReadOnlySpan<float> input);

    /// <summary>Draws fresh parameters from <paramref name="seed"/> with a weight scheme (seed 002); resets BatchNorm state.</summary>
    void InitializeParameters(int seed, Initialization.WeightInitialization scheme);

    /// <summary>The most probable class of one image.</summary>
    int Predict(ReadOnlySpan<float> input);
}
