package io.stepcast.cli;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.Rejection;
import io.stepcast.kafka.Csv;
import io.stepcast.kafka.ModelTopic;
import io.stepcast.kafka.TopicHistory;
import io.stepcast.model.ModelDirectoryWatcher;
import io.stepcast.train.Promotion;
import io.stepcast.train.RnnTrainer;
import io.stepcast.train.TrainConfig;
import io.stepcast.train.TrainingData;
import io.stepcast.train.TrainingListener;
import io.stepcast.train.TrainingReport;
import io.stepcast.train.TrainingRun;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stepcast train}: learn a model from history, prove it, export it, and maybe publish it.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Trains the pipeline's forecaster on history (a CSV file or the input topic), scores it"
          + " against persistence, seasonal-naive and AR(p) forecasts on the validation part (which"
          + " picks the epoch) and the test part (the last events, never used to fit or choose"
          + " anything) of every series, exports an ONNX step model and checks it against the"
          + " trainer before writing it.",
      "Without --publish the model goes to --out (default: MODEL_DIR/candidates, which running"
          + " instances do not watch). With --publish it replaces the live model (in model.directory"
          + " and, given --bootstrap-servers, on the model topic) only if its MAE on the test part"
          + " (the validation part when training.testFraction is 0) is lower, unless --force."
    })
final class TrainCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @ArgGroup(multiplicity = "1")
  Source source;

  static final class Source {
    @Option(names = "--csv", description = "History as a CSV file with a header row.")
    Path csv;

    @Option(
        names = "--source",
        description = "'topic': the pipeline's input topic, from the beginning to its current end.")
    String source;
  }

  @Option(
      names = "--out",
      description = "Directory to write the model and its report to (see above for the default).")
  Path outDir;

  @Option(names = "--publish", description = "Replace the live model if the new one is better.")
  boolean publish;

  @Option(names = "--force", description = "With --publish: publish even if it is not better.")
  boolean force;

  @Option(names = "--seed", description = "Random seed (default: training.seed of the spec).")
  Long seed;

  @Option(names = "--epochs", description = "Maximum epochs (default: training.maxEpochs).")
  Integer epochs;

  @Option(
      names = "--topic-timeout",
      defaultValue = "PT2M",
      description = "With --source topic: how long reading may take. Default: ${DEFAULT-VALUE}")
  Duration topicTimeout;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    TopologySpec spec = common.spec();
    if (force && !publish) {
      throw new UserException("--force only applies with --publish");
    }
    // Before DJL starts: one PyTorch thread; more only fight over two cores on these small nets.
    System.setProperty("ai.djl.pytorch.num_threads", "1");
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");

    Path modelDir = spec.model().directory() == null ? null : Path.of(spec.model().directory());
    Path dir;
    if (publish) {
      dir = outDir != null ? outDir : modelDir;
    } else {
      dir = outDir != null ? outDir : modelDir == null ? null : modelDir.resolve("candidates");
      if (dir == null) {
        throw new UserException(
            "nowhere to write the model: pass --out DIR or set model.directory in "
                + common.topology);
      }
    }
    // Checked before training, not after it: a broker that cannot take the model is known now.
    String bootstrap = publish ? common.reachableBootstrap() : common.optionalBootstrap();
    boolean toTopic = publish && bootstrap != null;
    if (publish && dir == null && !toTopic) {
      throw new UserException(
          "--publish needs a model directory (model.directory or --out) or --bootstrap-servers");
    }

    TrainingData data = load(spec, out);
    TrainConfig cfg = TrainingRun.config(spec, seed, epochs);
    String version = uniqueVersion(dir, TrainingRun.version(spec, Clock.systemUTC()));
    out.printf(
        Locale.ROOT,
        "training %s %dx%d on %d series, %d events (of each series, validation: %.0f%%, then"
            + " test: the last %.0f%%)%n",
        cfg.cell().id(),
        cfg.layers(),
        cfg.hiddenSize(),
        data.series().size(),
        data.events(),
        100 * cfg.validationFraction(),
        100 * cfg.testFraction());
    TrainingRun.Result result = train(spec, data, cfg, version);
    TrainingReport report = result.report();
    printReport(out, report);

    if (!publish) {
      write(dir, result, out);
      out.println("not published (pass --publish to replace the live model if this one is better)");
      return 0;
    }

    List<Promotion.Live> live = new ArrayList<>();
    if (dir != null) {
      Optional<Path> newest = ModelDirectoryWatcher.newest(dir);
      if (newest.isPresent()) {
        live.add(new Promotion.Live(newest.get().toString(), Files.readAllBytes(newest.get())));
      }
    }
    if (toTopic) {
      // Create it compacted and sized for models before a client's metadata request can
      // auto-create it with the broker's defaults.
      ModelCommand.ensureTopic(spec, bootstrap);
      byte[] latest =
          ModelTopic.latest(
              bootstrap, CommonOptions.clientProperties(), spec.topics().model(), spec.name());
      if (latest != null) {
        live.add(new Promotion.Live("topic " + spec.topics().model(), latest));
      }
    }
    Promotion.Decision d =
        Promotion.decide(spec, data, cfg, version, report.gate().mae(), live, force);
    String part = report.gate().part();
    for (Promotion.LiveScore s : d.live()) {
      out.printf(
          Locale.ROOT,
          "live model %s (%s): %s MAE %s%s%n",
          s.version() == null ? "?" : s.version(),
          s.source(),
          part,
          s.mae() == null ? "-" : String.format(Locale.ROOT, "%.6f", s.mae()),
          s.problem() == null ? "" : " [" + s.problem() + "]");
    }
    out.printf(Locale.ROOT, "new model %s: %s MAE %.6f%n", version, part, d.newMae());
    out.println((d.publish() ? "publishing: " : "NOT publishing: ") + d.reason());
    if (!d.publish()) {
      return 4;
    }
    if (dir != null) {
      write(dir, result, out);
    }
    if (toTopic) {
      ModelCommand.deliver(result.onnx(), version, spec, null, true, common);
    }
    return 0;
  }

  /**
   * The version, with a counter appended when a model of that version is already in {@code dir}.
   */
  static String uniqueVersion(Path dir, String version) {
    if (dir == null) {
      return version;
    }
    String v = version;
    for (int i = 2; Files.exists(dir.resolve(v + ".onnx")); i++) {
      v = version + "-" + i;
    }
    return v;
  }

  private TrainingData load(TopologySpec spec, PrintStream out) throws Exception {
    TrainingData data;
    try {
      if (source.csv != null) {
        data = TrainingData.fromCsv(spec, source.csv);
      } else if ("topic".equals(source.source)) {
        String bootstrap = common.requireBootstrap("--source topic");
        List<TrainingData.RawRecord> records = new ArrayList<>();
        TopicHistory.read(
            bootstrap,
            CommonOptions.clientProperties(),
            spec.topics().input(),
            topicTimeout,
            (p, o, k, v) -> records.add(new TrainingData.RawRecord(k, v)));
        data = TrainingData.fromRecords(spec, "topic " + spec.topics().input(), records);
      } else {
        throw new UserException("--source must be 'topic' (or pass --csv FILE)");
      }
    } catch (Csv.FormatException e) {
      throw new UserException(e.getMessage());
    } catch (java.nio.file.NoSuchFileException e) {
      throw new UserException("no such file: " + e.getFile());
    }
    printCounts(out, data);
    return data;
  }

  static void printCounts(PrintStream out, TrainingData data) {
    TrainingData.Counts c = data.counts();
    out.printf(
        Locale.ROOT,
        "read %s: %d records -> %d series, %d events%n",
        data.source(),
        c.records(),
        data.series().size(),
        data.events());
    if (c.rejectedTotal() > 0) {
      StringBuilder by = new StringBuilder();
      for (Map.Entry<Rejection, Long> e : c.rejected().entrySet()) {
        by.append(by.length() == 0 ? "" : ", ")
            .append(e.getKey().id())
            .append(' ')
            .append(e.getValue());
      }
      out.println("  rejected " + c.rejectedTotal() + " records (" + by + "), e.g.:");
      for (String m : c.firstRejections()) {
        out.println("    " + m);
      }
    }
    if (c.skipped() > 0) {
      out.println(
          "  skipped " + c.skipped() + " records with a missing value (missing-value policy)");
    }
    if (c.duplicates() > 0) {
      out.println(
          "  dropped "
              + c.duplicates()
              + " duplicate events (same series and time as an earlier one)");
    }
    if (c.late() > 0) {
      out.println(
          "  sorted "
              + c.late()
              + " late events into place (a running instance dead-letters late events)");
    }
    if (c.rejected().containsKey(Rejection.MISSING_FIELD)) {
      out.println(
          "  (missing_field: dropped under policies.missing: reject, as a running instance"
              + " dead-letters them)");
    }
    if (c.unfillable() > 0) {
      out.println(
          "  dropped "
              + c.unfillable()
              + " events with a missing value and nothing earlier to carry forward");
    }
  }

  static TrainingRun.Result train(
      TopologySpec spec, TrainingData data, TrainConfig cfg, String version) throws Exception {
    ProgressBar bar = new ProgressBar(System.err, "train");
    TrainingListener listener =
        (epoch, max, trainLoss, valLoss, improved) ->
            bar.update(
                epoch,
                max,
                String.format(
                    Locale.ROOT,
                    "epoch %d loss %.5f val %.5f%s",
                    epoch,
                    trainLoss,
                    valLoss,
                    improved ? " *" : ""));
    try {
      return TrainingRun.run(spec, data, cfg, version, listener);
    } catch (TrainingRun.ParityException | RnnTrainer.DivergedException e) {
      throw new UserException(e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new UserException("cannot train on " + data.source() + ": " + e.getMessage());
    } finally {
      bar.done();
    }
  }

  static void printReport(PrintStream out, TrainingReport r) {
    out.printf(
        Locale.ROOT,
        "trained %s in %d epochs (%.1f s); errors in %s's units, AR order %d (%s)%n",
        r.version(),
        r.epochs(),
        r.trainMillis() / 1000.0,
        r.target(),
        r.arOrder(),
        r.arOrderChosenBy());
    out.println("validation part (it picked the epoch, so the model's figure is optimistic):");
    out.print(r.toTable(false));
    if (r.overall().test() != null) {
      out.println("test part (never used to fit or choose anything):");
      out.print(r.toTable(true));
    }
    if (r.horizons() != null) {
      out.println("every target and horizon, validation part (errors in each target's units):");
      out.print(r.toHorizonTable(false));
      if (r.overall().test() != null) {
        out.println("every target and horizon, test part:");
        out.print(r.toHorizonTable(true));
      }
    }
    if (r.skippedUpdates() > 0) {
      out.printf(
          Locale.ROOT,
          "recovered: skipped %d update(s) with a non-finite loss or gradient; learning rate"
              + " lowered to %.3g%n",
          r.skippedUpdates(),
          r.finalLearningRate());
    }
    for (String w : r.warnings()) {
      out.println(w);
    }
    TrainingReport.Parity p = r.parity();
    out.printf(
        Locale.ROOT,
        "export parity: max |ONNX - trainer| / max(1, |trainer|) = %.2e (limit %.0e)%n",
        p.exportMaxAbsDiff(),
        p.exportTolerance());
    out.printf(
        Locale.ROOT,
        "training/serving parity: held-out MAE streamed through ONNX %.6f, trainer %.6f (%.4f%%"
            + " apart, limit %.0f%%)%n",
        p.servingMae(),
        p.trainerMae(),
        100 * p.relativeDifference(),
        100 * p.relativeTolerance());
  }

  /** Writes the model and its report atomically into {@code dir}. */
  static Path write(Path dir, TrainingRun.Result result, PrintStream out) throws Exception {
    Files.createDirectories(dir);
    // The report first: a directory watcher reacts to the .onnx file, which must find it complete.
    Path report = dir.resolve(result.version() + ".report.json");
    atomicWrite(report, result.report().toJson().getBytes(StandardCharsets.UTF_8));
    Path model = dir.resolve(result.version() + ".onnx");
    atomicWrite(model, result.onnx());
    out.println(
        "wrote " + model + " (" + result.onnx().length + " bytes) and " + report.getFileName());
    return model;
  }

  static void atomicWrite(Path target, byte[] bytes) throws Exception {
    Path parent = target.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path tmp = Files.createTempFile(parent, ".stepcast-", ".tmp");
    try {
      Files.write(tmp, bytes);
      try {
        // createTempFile makes the file owner-only; a model is read by the serving user too.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system: keep its defaults
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
