package io.stepcast.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code stepcast} command line. */
@Command(
    name = "stepcast",
    mixinStandardHelpOptions = true,
    version = "stepcast 0.1.0",
    description = "Live per-series recurrent forecasting inside Kafka Streams with ONNX Runtime.",
    subcommands = {
      RunCommand.class,
      ReplayCommand.class,
      ModelCommand.class,
      BenchCommand.class,
      BrokerCommand.class,
      TrainCommand.class,
      FeaturesCommand.class,
      DemoCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    int code = commandLine().execute(args);
    System.exit(code);
  }

  /** The command line with stepcast's error handling (config errors print as one clear line). */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (ex, line, parseResult) -> {
          if (ex instanceof io.stepcast.config.ConfigException
              || ex instanceof io.stepcast.model.ModelException
              || ex instanceof UserException) {
            line.getErr().println("error: " + ex.getMessage());
            return 2;
          }
          throw ex;
        });
    return cl;
  }
}
