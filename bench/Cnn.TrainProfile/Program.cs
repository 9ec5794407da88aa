using CnnGen.TrainProfile;
return Cli.Run(args);
