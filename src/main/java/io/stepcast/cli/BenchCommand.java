package io.stepcast.cli;

import io.stepcast.bench.EndToEndBench;
import io.stepcast.bench.EndToEndBench.Candidate;
import io.stepcast.bench.EndToEndBench.Kind;
import io.stepcast.bench.EndToEndBench.Result;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.EmbeddedKafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stepcast bench}: the end-to-end benchmark (pass-through, stateful identity, stepcast and
 * the windowed design over the same events in one process), optionally its latency mode, and the
 * JMH step benchmark on request.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a pass-through topology, a stateful identity topology, stepcast and the windowed design"
          + " (the last W events per series re-run through a sequence graph of the same weights)"
          + " over the same events on one broker, interleaved --repeat times, and prints"
          + " records/s, CPU per record (process, Kafka Streams threads, stream threads alone),"
          + " min/median/max over the rounds, the ratios within each round and the machine's load.",
      "With --latency, then produces at fixed fractions of stepcast's measured maximum and prints"
          + " p50/p99 event-to-forecast latency (read_committed).",
      "With --jmh, runs the JMH benchmark of the ONNX step instead."
    })
final class BenchCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(
      names = "--events",
      defaultValue = "100000",
      description = "Events per measured run. Default: ${DEFAULT-VALUE}")
  int events;

  @Option(
      names = "--series",
      defaultValue = "500",
      description = "Series (keys, round-robin), 1 to 1000000. Default: ${DEFAULT-VALUE}")
  int series;

  @Option(
      names = "--cell",
      description = "Recurrent cell, lstm or gru. Default: the spec's training.cell")
  String cell;

  @Option(names = "--hidden", description = "Hidden size. Default: the spec's training.hiddenSize")
  Integer hidden;

  @Option(names = "--layers", description = "Layers. Default: the spec's training.layers")
  Integer layers;

  @Option(
      names = "--windows",
      split = ",",
      defaultValue = "16,64",
      description = "W of each windowed run. Default: ${DEFAULT-VALUE}")
  List<Integer> windows;

  @Option(
      names = "--topologies",
      split = ",",
      defaultValue = "pass,identity,stepcast,window",
      description =
          "Which to run, of pass, identity, stepcast, window (one per --windows). Default:"
              + " ${DEFAULT-VALUE}")
  List<String> topologies;

  @Option(
      names = "--repeat",
      defaultValue = "1",
      description = "Rounds; each runs every topology once, interleaved. Default: ${DEFAULT-VALUE}")
  int repeat;

  @Option(
      names = "--port",
      defaultValue = "0",
      description = "Port of the embedded broker (0: a free one). Default: ${DEFAULT-VALUE}")
  int port;

  @Option(
      names = "--latency",
      description =
          "After the throughput rounds, measure event-to-forecast latency of stepcast and the"
              + " windowed runs at --latency-fractions of stepcast's median maximum.")
  boolean latency;

  @Option(
      names = "--latency-fractions",
      split = ",",
      defaultValue = "0.1,0.5",
      description = "Default: ${DEFAULT-VALUE}")
  List<Double> latencyFractions;

  @Option(
      names = "--latency-seconds",
      defaultValue = "20",
      description = "Seconds each latency run produces for. Default: ${DEFAULT-VALUE}")
  int latencySeconds;

  @Option(
      names = "--batch-size",
      split = ",",
      description =
          "Most series stepped in one ONNX Runtime call on the live path (processing.batchSize;"
              + " 1: no batching). Several (e.g. 1,64) run stepcast once per size in the same"
              + " rounds. Default: the spec's.")
  List<Integer> batchSizes;

  @Option(
      names = "--cache-max-bytes",
      description =
          "Record cache of the Kafka Streams threads (processing.cacheMaxBytes; 0: none). The"
              + " stateful identity and windowed stores are cached when it is above 0, as"
              + " stepcast's own store is when it does not batch. Default: the spec's.")
  Long cacheMaxBytes;

  @Option(names = "--jmh", description = "Run the JMH step benchmark (StepBenchmark) instead.")
  boolean jmh;

  @Override
  public Integer call() throws Exception {
    if (jmh) {
      org.openjdk.jmh.Main.main(new String[] {"StepBenchmark"});
      return 0;
    }
    if (events < 1 || series < 1 || series > 1_000_000 || repeat < 1) {
      throw new UserException(
          "--events and --repeat must be >= 1 and --series between 1 and 1000000");
    }
    Map<String, String> overrides = new LinkedHashMap<>();
    put(overrides, "training.cell", cell, "--cell");
    put(overrides, "training.hiddenSize", hidden, "--hidden");
    put(overrides, "training.layers", layers, "--layers");
    put(overrides, "processing.cacheMaxBytes", cacheMaxBytes, "--cache-max-bytes");
    if (batchSizes != null && batchSizes.size() == 1) {
      put(overrides, "processing.batchSize", batchSizes.get(0), "--batch-size");
    }
    TopologySpec spec = spec(overrides);
    Map<Integer, TopologySpec> batchSpecs = new HashMap<>();
    for (int b : batchSizes()) {
      Map<String, String> o = new LinkedHashMap<>(overrides);
      put(o, "processing.batchSize", b, "--batch-size");
      batchSpecs.put(b, spec(o));
    }
    EndToEndBench.Options options =
        new EndToEndBench.Options(
            events,
            series,
            candidates(),
            repeat,
            latency ? latencyFractions : List.of(),
            latencySeconds);
    Path work = Files.createTempDirectory("stepcast-bench");
    EmbeddedKafkaBroker broker = null;
    String bootstrap = common.optionalBootstrap();
    if (bootstrap == null) {
      broker = EmbeddedKafkaBroker.builder(work.resolve("kafka")).port(port).start();
      bootstrap = broker.bootstrapServers();
    }
    try {
      EndToEndBench bench =
          new EndToEndBench(spec, batchSpecs, bootstrap, work.resolve("state"), options);
      System.out.printf(
          "stepcast bench: pipeline %s, %s %dx%d, %d events, %d series, %d partitions, %s,"
              + " commit interval %d ms, record cache %d bytes, %d round(s)%s, one process%s%n",
          spec.name(),
          spec.training().cell(),
          spec.training().layers(),
          spec.training().hiddenSize(),
          events,
          series,
          spec.topics().partitions(),
          spec.processing().guarantee(),
          spec.processing().commitIntervalMs(),
          spec.processing().cacheMaxBytes(),
          repeat,
          overrides.isEmpty() ? "" : ", settings " + overrides,
          broker == null
              ? " against " + bootstrap
              : " with an embedded broker on " + bootstrap + " (its CPU counts in 'process')");
      System.out.printf(
          "state bytes written per event: stepcast %d (identity writes the same)%s%n",
          bench.stepcastStateBytes(), windowBytes(bench));
      System.out.println("state stores with the record cache: " + cachedStores(bench));
      System.out.println("load before: " + EndToEndBench.load());
      System.out.printf(
          "%-18s %5s %11s %13s %13s %14s %13s %14s%n",
          "topology",
          "round",
          "records/s",
          "process us/r",
          "streams us/r",
          "stream-th us/r",
          "rocksdb us/r",
          "changelog B/r");
      List<Result> results =
          bench.run(
              new EndToEndBench.Listener() {
                @Override
                public void warmedUp() {
                  System.err.println("  warm-up round done");
                }

                @Override
                public void measured(Result r) {
                  System.out.printf(
                      "%-18s %5d %11.0f %13.1f %13.1f %14.1f %13.1f %14.0f%n",
                      r.candidate().label(),
                      r.round() + 1,
                      r.recordsPerSecond(),
                      r.processMicros(),
                      r.instanceMicros(),
                      r.streamThreadMicros(),
                      r.rocksDbMicros(),
                      r.changelogBytesPerEvent());
                }

                @Override
                public void latency(EndToEndBench.Latency l) {
                  System.out.printf(
                      "latency %-18s at %3.0f%% of stepcast's max (%.0f events/s, %d forecasts):"
                          + " p50 %.0f ms, p99 %.0f ms, max %.0f ms (load: %s)%n",
                      l.candidate().label(),
                      l.fraction() * 100,
                      l.rate(),
                      l.records(),
                      l.p50(),
                      l.p99(),
                      l.max(),
                      EndToEndBench.load());
                }
              });
      printSummary(results);
      System.out.println("load after: " + EndToEndBench.load());
      return 0;
    } finally {
      if (broker != null) {
        broker.close();
      }
      EmbeddedKafkaBroker.deleteRecursively(work);
    }
  }

  /**
   * The spec with the benchmark's options applied as environment overrides, so they are validated
   * like any setting and no spec field is copied by hand.
   */
  private TopologySpec spec(Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>(System.getenv());
    Map<String, String> names = SpecLoader.envNames();
    overrides.forEach((path, value) -> env.put(names.get(path), value));
    Set<String> optionVariables =
        common.command == null ? Set.of() : CliEnvironment.names(common.command.root());
    return SpecLoader.load(common.topology, env, optionVariables);
  }

  private static void put(Map<String, String> overrides, String path, Object value, String option) {
    if (value == null) {
      return;
    }
    if (!SpecLoader.envNames().containsKey(path)) {
      throw new UserException(
          option + ": this build has no setting " + path + " yet; run without " + option);
    }
    overrides.put(path, value.toString());
  }

  private List<Candidate> candidates() {
    List<Candidate> out = new ArrayList<>();
    for (String t : topologies) {
      switch (t.trim().toLowerCase(Locale.ROOT)) {
        case "pass":
          out.add(new Candidate(Kind.PASS, 0));
          break;
        case "identity":
          out.add(new Candidate(Kind.IDENTITY, 0));
          break;
        case "stepcast":
          if (batchSizes != null && batchSizes.size() > 1) {
            for (int b : batchSizes()) {
              out.add(new Candidate(Kind.STEPCAST, 0, b));
            }
          } else {
            out.add(new Candidate(Kind.STEPCAST, 0));
          }
          break;
        case "window":
          for (int w : windows) {
            if (w < 1) {
              throw new UserException("--windows: W must be >= 1, got " + w);
            }
            out.add(new Candidate(Kind.WINDOW, w));
          }
          break;
        default:
          throw new UserException(
              "--topologies: unknown '" + t + "'; use pass, identity, stepcast, window");
      }
    }
    if (latency && out.stream().noneMatch(c -> c.kind() == Kind.STEPCAST)) {
      throw new UserException(
          "--latency needs stepcast in --topologies (its maximum sets the rate)");
    }
    return out;
  }

  /** The batch sizes that get a stepcast run of their own (none when one size or none is given). */
  private List<Integer> batchSizes() {
    if (batchSizes == null || batchSizes.size() < 2) {
      return List.of();
    }
    for (int b : batchSizes) {
      if (b < 1) {
        throw new UserException("--batch-size: each size must be >= 1, got " + b);
      }
    }
    return batchSizes.stream().distinct().toList();
  }

  private String cachedStores(EndToEndBench bench) {
    List<String> out = new ArrayList<>();
    for (Candidate c : candidates()) {
      if (c.kind() != Kind.PASS) {
        out.add(c.label() + (bench.cached(c) ? " yes" : " no"));
      }
    }
    return String.join(", ", out);
  }

  private String windowBytes(EndToEndBench bench) {
    StringBuilder sb = new StringBuilder();
    for (int w : windows) {
      sb.append(", window W=").append(w).append(' ').append(bench.windowStateBytes(w));
    }
    return sb.toString();
  }

  private void printSummary(List<Result> results) {
    List<Candidate> order = candidates();
    System.out.printf(
        "%nover %d round(s), min / median / max:%n%-18s %24s %20s %20s %20s %20s %20s%n",
        repeat,
        "topology",
        "records/s",
        "process us/r",
        "streams us/r",
        "stream-th us/r",
        "rocksdb us/r",
        "changelog B/r");
    for (Candidate c : order) {
      List<Result> mine = results.stream().filter(r -> r.candidate().equals(c)).toList();
      System.out.printf(
          "%-18s %24s %20s %20s %20s %20s %20s%n",
          c.label(),
          range(mine, Result::recordsPerSecond, "%.0f"),
          range(mine, Result::processMicros, "%.1f"),
          range(mine, Result::instanceMicros, "%.1f"),
          range(mine, Result::streamThreadMicros, "%.1f"),
          range(mine, Result::rocksDbMicros, "%.1f"),
          range(mine, Result::changelogBytesPerEvent, "%.0f"));
    }
    System.out.printf(
        "%nstepcast / peer within each round, min / median / max:%n%-30s %20s %20s %20s%n",
        "ratio", "process CPU/r", "streams CPU/r", "stream-th CPU/r");
    for (Candidate stepcast : order) {
      if (stepcast.kind() == Kind.STEPCAST) {
        printRatios(results, order, stepcast);
      }
    }
  }

  private void printRatios(List<Result> results, List<Candidate> order, Candidate stepcast) {
    for (Candidate c : order) {
      if (c.kind() == Kind.STEPCAST || c.kind() == Kind.PASS) {
        continue;
      }
      List<double[]> ratios = new ArrayList<>();
      for (int r = 0; r < repeat; r++) {
        Result s = of(results, stepcast, r);
        Result p = of(results, c, r);
        if (s != null && p != null) {
          ratios.add(
              new double[] {
                s.recordsPerSecond() / p.recordsPerSecond(),
                s.processMicros() / p.processMicros(),
                s.instanceMicros() / p.instanceMicros(),
                s.streamThreadMicros() / p.streamThreadMicros()
              });
        }
      }
      System.out.printf(
          "%-30s %20s %20s %20s   (throughput %s)%n",
          stepcast.label() + " / " + c.label(),
          rangeOf(ratios, 1),
          rangeOf(ratios, 2),
          rangeOf(ratios, 3),
          rangeOf(ratios, 0));
    }
  }

  private static Result of(List<Result> results, Candidate c, int round) {
    return results.stream()
        .filter(r -> r.candidate().equals(c) && r.round() == round)
        .findFirst()
        .orElse(null);
  }

  private static String range(List<Result> rs, ToDoubleFunction<Result> f, String fmt) {
    return range(rs.stream().mapToDouble(f).toArray(), fmt);
  }

  private static String rangeOf(List<double[]> ratios, int i) {
    return range(ratios.stream().mapToDouble(r -> r[i]).toArray(), "%.2fx");
  }

  private static String range(double[] v, String fmt) {
    if (v.length == 0) {
      return "-";
    }
    double min = Double.MAX_VALUE;
    double max = -Double.MAX_VALUE;
    for (double x : v) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    return String.format(Locale.ROOT, fmt, min)
        + " / "
        + String.format(Locale.ROOT, fmt, EndToEndBench.median(v))
        + " / "
        + String.format(Locale.ROOT, fmt, max);
  }
}
