using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CnnGen.Data;
using CnnGen.Samples.Images;
using CnnGen.Samples.Networks;
using CnnGen.Samples.Web;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Samples.Tests;

/// <summary>
/// <c>POST /predict</c> under load, on loopback, bounded in time and count: a few hundred concurrent clients for two
/// rounds of a few seconds against a pool of network instances. Every answer must equal a single-threaded forward
/// pass of the same picture, no request may fail, and memory must stay roughly flat from the first round to the
/// second. Nothing here asserts speed; the counts are printed. It runs alone, after the other tests: their work would
/// share its cores and their allocations its memory figures.
/// </summary>
[Collection(nameof(LoadTests))]
public sealed class LoadTests(ITestOutputHelper output)
{
    private const int Clients = 300;
    private const int MaxRequestsPerClient = 200;
    private static readonly TimeSpan RoundLength = TimeSpan.FromSeconds(3);

    private sealed record Case(byte[] Png, float[] Expected);

    [Fact]
    public async Task HundredsOfConcurrentClientsGetCorrectAnswersAndMemoryStaysFlat()
    {
        const float mean = 0.2860f;
        var reference = new LeNet5(seed: 11) { Threads = 1 };
        var cases = Enumerable.Range(0, 16).Select(i =>
        {
            byte[] png = TestImages.GreyPng(PredictEndpointTests.Shape(i));
            float[] input = ImageInput.ToInput(ImageDecoder.Decode(png, 1), 28, 28, invert: false).Select(v => v - mean).ToArray();
            var expected = new float[10];
            reference.Forward(input, expected, 1);
            return new Case(png, expected);
        }).ToArray();
        // Distinct answers, so an answer given to the wrong request would be caught.
        Assert.Equal(cases.Length, cases.Select(c => string.Join(",", c.Expected)).Distinct().Count());

        var pool = NetworkPool.Create(() => new LeNet5(seed: 11) { Threads = 1 }, Math.Max(2, Environment.ProcessorCount));
        await using var server = new ActivationServer(pool, FashionMnist.ClassNames, mean);
        await server.StartAsync(0);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Clients, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}/"), Timeout = TimeSpan.FromSeconds(60) };

        var (first, firstSeconds) = await RoundAsync(client, cases);
        var (heapBefore, workingSetBefore) = Memory();
        var (second, secondSeconds) = await RoundAsync(client, cases);
        var (heapAfter, workingSetAfter) = Memory();

        output.WriteLine($"round 1: {first} requests in {firstSeconds:F2} s ({first / firstSeconds:F0}/s); round 2: {second} in {secondSeconds:F2} s ({second / secondSeconds:F0}/s)");
        output.WriteLine($"managed heap {heapBefore / 1e6:F1} -> {heapAfter / 1e6:F1} MB, working set {workingSetBefore / 1e6:F1} -> {workingSetAfter / 1e6:F1} MB");
        Assert.True(first >= Clients && second >= Clients, "every client should have been answered at least once");
        Assert.True(heapAfter - heapBefore < 64_000_000, $"the managed heap grew from {heapBefore:N0} to {heapAfter:N0} bytes");
        Assert.True(workingSetAfter - workingSetBefore < 256_000_000, $"the working set grew from {workingSetBefore:N0} to {workingSetAfter:N0} bytes");
        Assert.Equal(pool.Size, pool.Idle);  // every instance came back
    }

    /// <summary>All clients at once, each posting pictures in turn until the round's time or its count is up;
    /// every answer checked. Returns the number of requests and the seconds taken.</summary>
    private static async Task<(int Requests, double Seconds)> RoundAsync(HttpClient client, Case[] cases)
    {
        var clock = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, Clients).Select(id => Task.Run(async () =>
        {
            int done = 0;
            while (done < MaxRequestsPerClient && (done == 0 || clock.Elapsed < RoundLength))
            {
                var @case = cases[(id + done) % cases.Length];
                var content = new ByteArrayContent(@case.Png);
                content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                using var response = await client.PostAsync("/predict?top=1", content);
                string text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, text);
                using var json = JsonDocument.Parse(text);
                var probabilities = json.RootElement.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()).ToArray();
                Assert.Equal(@case.Expected, probabilities);
                Assert.Equal(Array.IndexOf(@case.Expected, @case.Expected.Max()), json.RootElement.GetProperty("predicted").GetInt32());
                done++;
            }
            return done;
        })));
        return (counts.Sum(), clock.Elapsed.TotalSeconds);
    }

    private static (long Heap, long WorkingSet) Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return (GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
    }
}

/// <summary>The load test's collection: not run in parallel with anything else.</summary>
[CollectionDefinition(nameof(LoadTests), DisableParallelization = true)]
public sealed class LoadTestsCollection;
