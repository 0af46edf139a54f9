package io.stepcast.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * The {@code stepcast} command line.
 *
 * <p>{@code run}, {@code replay} and {@code model} are the server's and always there. {@code
 * train}, {@code backtest}, {@code features}, {@code demo}, {@code bench} and {@code broker} need
 * parts that the server image does not carry ({@link OptionalRuntime}): they are named here as
 * strings, never as class literals, so the server's classes do not link against them, and each is
 * registered only where its parts are on the class path. Elsewhere it is listed and says which
 * installation has it.
 */
@Command(
    name = "stepcast",
    mixinStandardHelpOptions = true,
    version = "stepcast 0.1.0",
    description = "Live per-series recurrent forecasting inside Kafka Streams with ONNX Runtime.")
public final class Main implements Runnable {
  /** A command that needs optional parts, by class name so that nothing here links against it. */
  private record OptionalCommand(
      String name, String className, List<OptionalRuntime> needs, String where) {}

  private static final String LAUNCHER = "the launcher ./stepcast in a clone of the repository";
  private static final String TRAINER_IMAGE =
      "the trainer image (docker/Dockerfile --target trainer) or " + LAUNCHER;

  private static final List<OptionalCommand> OPTIONAL =
      List.of(
          new OptionalCommand(
              "bench",
              "io.stepcast.cli.BenchCommand",
              List.of(OptionalRuntime.BROKER, OptionalRuntime.BENCHMARK),
              LAUNCHER),
          new OptionalCommand(
              "broker", "io.stepcast.cli.BrokerCommand", List.of(OptionalRuntime.BROKER), LAUNCHER),
          new OptionalCommand(
              "train",
              "io.stepcast.cli.TrainCommand",
              List.of(OptionalRuntime.TRAINER),
              TRAINER_IMAGE),
          new OptionalCommand(
              "backtest",
              "io.stepcast.cli.BacktestCommand",
              List.of(OptionalRuntime.TRAINER),
              TRAINER_IMAGE),
          new OptionalCommand(
              "features",
              "io.stepcast.cli.FeaturesCommand",
              List.of(OptionalRuntime.TRAINER),
              TRAINER_IMAGE),
          new OptionalCommand(
              "demo",
              "io.stepcast.cli.DemoCommand",
              List.of(OptionalRuntime.TRAINER, OptionalRuntime.BROKER),
              LAUNCHER));

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
    cl.addSubcommand(new RunCommand());
    cl.addSubcommand(new ReplayCommand());
    cl.addSubcommand(new ModelCommand());
    for (OptionalCommand o : OPTIONAL) {
      cl.addSubcommand(o.name(), optional(o));
    }
    cl.addSubcommand(new CommandLine.HelpCommand());
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

  private static CommandLine optional(OptionalCommand o) {
    List<OptionalRuntime> missing = o.needs().stream().filter(r -> !r.present()).toList();
    if (missing.isEmpty()) {
      try {
        return new CommandLine(Class.forName(o.className()));
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException("stepcast is built without " + o.className(), e);
      }
    }
    String lacks = String.join(" and ", missing.stream().map(OptionalRuntime::what).toList());
    String message =
        "`stepcast "
            + o.name()
            + "` is not in this installation (it lacks "
            + lacks
            + "): use "
            + o.where();
    CommandLine unavailable = new CommandLine(new Unavailable(message));
    unavailable
        .getCommandSpec()
        .usageMessage()
        .description("Not in this installation (lacks " + lacks + "): use " + o.where() + ".");
    return unavailable;
  }

  /** Stands for a command whose parts are missing: any arguments, one line saying where it is. */
  @Command(mixinStandardHelpOptions = true)
  static final class Unavailable implements Callable<Integer> {
    private final String message;

    @Unmatched List<String> ignored;

    Unavailable(String message) {
      this.message = message;
    }

    @Override
    public Integer call() {
      throw new UserException(message);
    }
  }
}
