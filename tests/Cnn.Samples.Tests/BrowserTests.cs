using System.Diagnostics;
using System.Text.RegularExpressions;
using CnnGen.Data;
using CnnGen.Samples.Networks;
using CnnGen.Samples.Web;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Samples.Tests;

/// <summary>
/// The draw-and-watch page in a real browser: headless Chromium opens <c>/?demo=1</c>, whose script draws a figure
/// through pointer events, asks the server for the activations and renders them. The page's DOM must show every layer
/// and highlight the class the network itself predicts for the drawing the server received.
/// Needs Chromium (<c>apt-get install -y chromium</c>, as <c>.ci/run</c> does).
/// </summary>
public sealed class BrowserTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public void TheDemoDrawingIsRenderedLayerByLayerWithTheNetworksPrediction()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install -y chromium");
        var network = new LeNet5(seed: 1);
        using var server = new ActivationServer(network, FashionMnist.ClassNames, inputMean: 0.25f);
        server.Start(0);
        string dom = DumpDom(new Uri(server.Url, "/?demo=1"));

        // Every layer got its box, titled with its name, kind and shape, and its maps.
        var titles = Regex.Matches(dom, @"<h2>(\w+) <span>· (\w+) · (\d+)×(\d+)×(\d+) · values").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(LeNet5.Layers.Select(l => l.Name), titles);
        // One canvas per map of conv1, relu1, pool1 (6 each) and conv2, relu2, pool2 (16 each), one strip per flat layer (6).
        Assert.Equal(3 * 6 + 3 * 16 + 6, Regex.Matches(dom, "<canvas width=\"\\d+\" height=\"\\d+\" style=").Count);

        // The highlighted class is the network's prediction for the drawing the page sent.
        var drawing = server.LastDrawing;
        Assert.NotNull(drawing);
        Assert.Contains(drawing!, v => v > 0.5f);  // the script really drew
        var input = drawing!.Select(v => v - 0.25f).ToArray();
        string expected = FashionMnist.ClassNames[network.Predict(input)];
        var best = Regex.Match(dom, "<span class=\"best\">([^<]+)</span>");
        Assert.True(best.Success, "no class is highlighted");
        output.WriteLine($"highlighted {best.Groups[1].Value}, predicted {expected}");
        Assert.Equal(expected, best.Groups[1].Value);
        var percentages = Regex.Matches(dom, "<span class=\"pct\">([0-9.]+)%</span>").Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(10, percentages.Count);
        Assert.InRange(percentages.Sum(), 99.0, 101.0);
    }

    private static string DumpDom(Uri url)
    {
        string profile = Directory.CreateTempSubdirectory("cnngen-chromium").FullName;
        try
        {
            return DumpDom(url, profile);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    private static string DumpDom(Uri url, string profile)
    {
        var start = new ProcessStartInfo(Chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     $"--user-data-dir={profile}",
                     "--virtual-time-budget=10000", "--window-size=1200,1000", "--dump-dom", url.ToString() })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var dom = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("Chromium did not finish within 90 s");
        }
        Assert.True(process.ExitCode == 0, $"Chromium exited with {process.ExitCode}: {errors.Result}");
        return dom.Result;
    }
}
