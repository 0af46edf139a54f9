package io.stepcast.cli;

import io.stepcast.bench.EndToEndBench;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.EmbeddedKafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stepcast bench}: the end-to-end benchmark, and the JMH step benchmark on request. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a pass-through topology, a stateful identity topology and the forecaster over the same"
          + " events on one broker and prints records/s, CPU-seconds per record and the ratios.",
      "With --jmh, runs the JMH benchmark of the ONNX step instead."
    })
final class BenchCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(
      names = "--events",
      defaultValue = "50000",
      description = "Events. Default: ${DEFAULT-VALUE}")
  int events;

  @Option(
      names = "--series",
      defaultValue = "200",
      description = "Series. Default: ${DEFAULT-VALUE}")
  int series;

  @Option(names = "--jmh", description = "Run the JMH step benchmark (StepBenchmark) instead.")
  boolean jmh;

  @Override
  public Integer call() throws Exception {
    if (jmh) {
      org.openjdk.jmh.Main.main(new String[] {"StepBenchmark"});
      return 0;
    }
    TopologySpec spec = common.spec();
    Path work = Files.createTempDirectory("stepcast-bench");
    EmbeddedKafkaBroker broker = null;
    String bootstrap = common.optionalBootstrap();
    if (bootstrap == null) {
      broker = EmbeddedKafkaBroker.start(work.resolve("kafka"));
      bootstrap = broker.bootstrapServers();
    }
    try {
      System.out.printf(
          "stepcast bench: pipeline %s, %d events, %d series, %d partitions, %s, one process%s%n",
          spec.name(),
          events,
          series,
          spec.topics().partitions(),
          spec.processing().guarantee(),
          broker == null
              ? " against " + bootstrap
              : " with an embedded broker (its CPU counts in every row)");
      List<EndToEndBench.Result> r =
          new EndToEndBench(spec, bootstrap, work.resolve("state"))
              .run(
                  events,
                  series,
                  i ->
                      System.err.println(
                          i == 1 ? "  warm-up round done" : "  measured round done"));
      System.out.printf("%-20s %12s %14s%n", "topology", "records/s", "CPU us/record");
      for (EndToEndBench.Result x : r) {
        System.out.printf(
            "%-20s %12.0f %14.1f%n", x.name(), x.recordsPerSecond(), x.cpuMicrosPerRecord());
      }
      EndToEndBench.Result pass = r.get(0);
      EndToEndBench.Result stateful = r.get(1);
      EndToEndBench.Result fc = r.get(2);
      System.out.printf(
          "forecaster / pass-through: %.2fx throughput, %.2fx CPU per record%n",
          fc.recordsPerSecond() / pass.recordsPerSecond(),
          fc.cpuMicrosPerRecord() / pass.cpuMicrosPerRecord());
      System.out.printf(
          "forecaster / stateful:     %.2fx throughput, %.2fx CPU per record%n",
          fc.recordsPerSecond() / stateful.recordsPerSecond(),
          fc.cpuMicrosPerRecord() / stateful.cpuMicrosPerRecord());
      return 0;
    } finally {
      if (broker != null) {
        broker.close();
      }
      EmbeddedKafkaBroker.deleteRecursively(work);
    }
  }
}
