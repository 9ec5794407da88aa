using System.Reflection;
using CnnGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Tests;

/// <summary>The catalog as an IDE shows it: every descriptor has a title, an ID of its own and a link to its README row.</summary>
public class DiagnosticCatalogTests
{
    private static readonly DiagnosticDescriptor[] Descriptors = typeof(DiagnosticDescriptors)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .ToArray();

    [Fact]
    public void TheCatalogIsFound() => Assert.True(Descriptors.Length >= 28, $"only {Descriptors.Length} descriptors found");

    [Fact]
    public void EveryIdIsUniqueAndWellFormed()
    {
        Assert.All(Descriptors, d => Assert.Matches("^CNN[0-9]{4}$", d.Id));
        var duplicates = Descriptors.GroupBy(d => d.Id).Where(g => g.Count() > 1).Select(g => g.Key);
        Assert.Empty(duplicates);
    }

    [Fact]
    public void EveryDescriptorHasATitleAndAMessage() =>
        Assert.All(Descriptors, d =>
        {
            string title = d.Title.ToString();
            Assert.False(string.IsNullOrWhiteSpace(title), $"{d.Id} has no title");
            Assert.NotEqual(d.Id, title);
            Assert.False(string.IsNullOrWhiteSpace(d.MessageFormat.ToString()), $"{d.Id} has no message");
        });

    [Fact]
    public void EveryDescriptorLinksToItsOwnReadmeAnchor() =>
        Assert.All(Descriptors, d => Assert.Equal($"README.md#{d.Id.ToLowerInvariant()}", d.HelpLinkUri));

    [Fact]
    public void TheHelpLinkOfAnIdIsItsLowerCaseAnchor() => Assert.Equal("README.md#cnn0010", HelpLink.For("CNN0010"));

    [Fact]
    public void AReportedDiagnosticCarriesItsHelpLink()
    {
        var run = Infrastructure.TestDriver.Run("""
            using CnnGen;
            [Input(1, 28, 28)] [Dense(10)]
            public class Net { }
            """);
        var diagnostic = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "CNN0003");
        Assert.Equal("README.md#cnn0003", diagnostic.Descriptor.HelpLinkUri);
    }
}
