using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Diagnostics;

/// <summary>Every diagnostic the generator reports. Messages name the layer (name and position) and the shapes involved.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "CnnGen";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink.For(id));

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpLink.For(id));

    public static readonly DiagnosticDescriptor MissingInput = Error("CNN0001",
        "Network has no [Input]",
        "'{0}' declares layers but no [Input(channels, height, width)] attribute");

    public static readonly DiagnosticDescriptor DuplicateInput = Error("CNN0002",
        "Network has more than one [Input]",
        "'{0}' has more than one [Input]; the first one is {1}");

    public static readonly DiagnosticDescriptor NotPartial = Error("CNN0003",
        "Network class is not partial",
        "Network class '{0}' must be declared partial so that the generator can add its code");

    public static readonly DiagnosticDescriptor UnsupportedContainer = Error("CNN0004",
        "Network class cannot be generated here",
        "Network class '{0}' {1}");

    public static readonly DiagnosticDescriptor LayersOnSeveralDeclarations = Error("CNN0005",
        "Layers declared on more than one partial declaration",
        "'{0}' has layer attributes on more than one partial declaration, so their order is undefined; put them all on one");

    public static readonly DiagnosticDescriptor InvalidArgument = Error("CNN0006",
        "Attribute argument is not a constant",
        "[{0}] argument {1}");

    public static readonly DiagnosticDescriptor NonPositive = Error("CNN0007",
        "Layer size must be positive",
        "{0}: {1} must be positive, but is {2}");

    public static readonly DiagnosticDescriptor NegativePadding = Error("CNN0008",
        "Padding is negative",
        "{0}: padding must be zero or more, but is {1}");

    public static readonly DiagnosticDescriptor PoolPaddingTooLarge = Error("CNN0009",
        "Pool padding above half the window",
        "{0}: padding {1} is more than half of the {2}x{2} window (at most {3})");

    public static readonly DiagnosticDescriptor KernelDoesNotFit = Error("CNN0010",
        "Window does not fit its input",
        "{0}: {1} does not fit its {2} input ({3})");

    public static readonly DiagnosticDescriptor UnreadInput = Warning("CNN0011",
        "Stride leaves input unread",
        "{0}: stride {1} leaves the last {2} of the padded {3} input unread");

    public static readonly DiagnosticDescriptor PaddingReachesKernel = Warning("CNN0012",
        "Padding reaches the kernel size",
        "{0}: padding {1} is not smaller than the {2}x{2} kernel, so the border outputs see only zeros");

    public static readonly DiagnosticDescriptor SoftmaxNotLast = Error("CNN0013",
        "Softmax is not the last layer",
        "{0}: [Softmax] must be the last layer, but {1} follows it");

    public static readonly DiagnosticDescriptor DuplicateSoftmax = Error("CNN0014",
        "Softmax appears twice",
        "{0}: the network already has a [Softmax] ({1})");

    public static readonly DiagnosticDescriptor SpatialAfterDense = Error("CNN0015",
        "Spatial layer after a dense layer",
        "{0}: {1} needs a spatial input, but {2} already flattened it to {3} values");

    public static readonly DiagnosticDescriptor NoLayers = Error("CNN0016",
        "Network has no layers",
        "'{0}' has an [Input] but no layer");

    public static readonly DiagnosticDescriptor BadLayerName = Error("CNN0017",
        "Layer name is invalid or taken",
        "{0}: {1}");

    public static readonly DiagnosticDescriptor TooLarge = Error("CNN0018",
        "Tensor too large",
        "{0}: {1} has {2} values, more than this library handles ({3})");

    public static readonly DiagnosticDescriptor NonFinite = Error("CNN0019",
        "Argument is not a finite number",
        "{0}: {1} must be a finite number, but is {2}");

    public static readonly DiagnosticDescriptor DropoutRate = Error("CNN0020",
        "Dropout rate outside [0, 1)",
        "{0}: the dropout rate must be at least 0 and below 1, but is {1}");

    public static readonly DiagnosticDescriptor MaxoutGroups = Error("CNN0021",
        "Maxout pieces do not divide the channels",
        "{0}: {1} {2} cannot be split into groups of {3} pieces");

    public static readonly DiagnosticDescriptor FrozenWithoutParameters = Warning("CNN0022",
        "Frozen has no effect",
        "{0}: {1} layers have no parameters, so Frozen = true changes nothing");

    public static readonly DiagnosticDescriptor NothingToNormalize = Error("CNN0023",
        "BatchNorm has nothing to normalise",
        "{0}: no Conv or Dense layer comes before it, so it would only rescale {1}; scale the data instead, or put the BatchNorm after a Conv or Dense layer");

    public static readonly DiagnosticDescriptor BatchNormTwice = Warning("CNN0024",
        "BatchNorm directly after BatchNorm",
        "{0}: {1} has already normalised these values; a second BatchNorm only adds parameters");

    public static readonly DiagnosticDescriptor UnknownShortcutSource = Error("CNN0025",
        "Add or Concat names no earlier layer",
        "{0}: '{1}' is not a layer before it; name one of: {2}");

    public static readonly DiagnosticDescriptor ShortcutShapes = Error("CNN0026",
        "Add joins different shapes",
        "{0}: cannot add the output of {1} ({2}) to its input, the {3} ({4}); a shortcut needs equal shapes");

    public static readonly DiagnosticDescriptor ConcatSizes = Error("CNN0027",
        "Concat joins maps of different sizes",
        "{0}: cannot join the output of {1} ({2}) to its input, the {3} ({4}); the heights and widths must be equal");

    public static readonly DiagnosticDescriptor UnknownFrom = Error("CNN0028",
        "From names no earlier layer",
        "{0}: From = '{1}' is not a layer before it; name one of: {2}");

    public static readonly DiagnosticDescriptor UnreadOutput = Warning("CNN0029",
        "Layer output is never read",
        "{0}: no layer reads its output and it is not the network's output ({1}); name it in a From, Add or Concat, or remove it");

    public static readonly DiagnosticDescriptor GroupsDoNotDivide = Error("CNN0030",
        "Groups do not divide the channels",
        "{0}: {1} groups must divide both the {2} input channels ({3}) and the {4} filters");

    public static readonly DiagnosticDescriptor BatchNormArgument = Error("CNN0031",
        "BatchNorm argument out of range",
        "{0}: {1} must be {2}, but is {3}");

    public static readonly DiagnosticDescriptor MemberCollision = Error("CNN0032",
        "Member collides with generated code",
        "'{0}': {1} collides with the generated {2}; rename it or remove it (the generator adds {2} to every network)");

    public static readonly DiagnosticDescriptor InternalError = Error("CNN9999",
        "Generator failed",
        "CnnGen could not generate '{0}': {1}. Please report this with the attributes that caused it.");
}
