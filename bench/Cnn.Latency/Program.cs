using CnnGen.Latency;

return LatencyCommand.Run(args);
