package io.stepcast.cli;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.Csv;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelException;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.StepModel;
import io.stepcast.serve.ModelSources;
import io.stepcast.train.Backtest;
import io.stepcast.train.BacktestReport;
import io.stepcast.train.TrainConfig;
import io.stepcast.train.TrainingData;
import io.stepcast.train.TrainingRun;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stepcast backtest}: the accuracy check on a user's own data, offline, with the serving
 * code. Trains on the first part of every series as {@code stepcast train} would (or takes {@code
 * --model}), streams every event through the serving step engine and scores the events after the
 * split against persistence, seasonal-naive and AR(p) baselines fitted on the history only.
 */
@Command(
    name = "backtest",
    mixinStandardHelpOptions = true,
    description = {
      "Checks forecast accuracy on your own data, offline: splits every series of the CSV file at"
          + " round(events x --train-fraction), trains on the first part exactly as `stepcast train`"
          + " would on a file holding only those rows (or takes --model), streams EVERY event of"
          + " every series through the serving step engine from its first event (lag features,"
          + " intervals, the anomaly policy, every target and horizon), and scores the events after"
          + " the split.",
      "Per series and output (target@horizon): MAE and RMSE of the model, persistence,"
          + " seasonal-naive (with target.season) and two AR(p) fitted by least squares on the"
          + " series' history part only: the trainer's (transformed target) and one with intercept"
          + " on the target's levels; the model's ratio to each; interval coverage per level over"
          + " warm intervals; anomalies flagged. Writes forecasts.csv and backtest.json to --out."
    })
final class BacktestCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(names = "--csv", required = true, description = "The data, a CSV file with a header row.")
  Path csv;

  @Option(
      names = "--train-fraction",
      defaultValue = "0.7",
      description = "Share of each series' events before the split. Default: ${DEFAULT-VALUE}")
  double trainFraction;

  @Option(
      names = "--model",
      description = "Backtest this step model (.onnx) instead of training one on the history.")
  Path model;

  @Option(
      names = "--ar-order",
      defaultValue = "14",
      description = "Order p of the AR(p) baselines. Default: ${DEFAULT-VALUE}")
  int arOrder;

  @Option(
      names = "--inject-outliers",
      defaultValue = "0",
      description =
          "Anomaly check: stream every series again with this many outliers injected after its"
              + " split (seeded placement, never adjacent) and count how many are flagged. The"
              + " scores come from the clean data. Default: ${DEFAULT-VALUE}")
  int injectOutliers;

  @Option(
      names = "--outlier-size",
      defaultValue = "8",
      description =
          "How far an injected outlier lies from the actual, in mean absolute one-step changes of"
              + " the series' history part. Default: ${DEFAULT-VALUE}")
  double outlierSize;

  @Option(names = "--seed", description = "Random seed (default: training.seed of the spec).")
  Long seed;

  @Option(names = "--epochs", description = "Maximum epochs (default: training.maxEpochs).")
  Integer epochs;

  @Option(
      names = "--out",
      description = "Directory for forecasts.csv and backtest.json. Default: out/backtest-PIPELINE")
  Path outDir;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    if (!(trainFraction > 0 && trainFraction < 1)) {
      throw new UserException(
          "--train-fraction must be between 0 and 1 (exclusive), got " + trainFraction);
    }
    if (arOrder < 1) {
      throw new UserException("--ar-order must be at least 1, got " + arOrder);
    }
    if (model != null && (seed != null || epochs != null)) {
      throw new UserException("--seed and --epochs only apply when training (without --model)");
    }
    if (injectOutliers < 0) {
      throw new UserException("--inject-outliers must be 0 or more, got " + injectOutliers);
    }
    if (!(outlierSize > 0 && Double.isFinite(outlierSize))) {
      throw new UserException("--outlier-size must be a positive number, got " + outlierSize);
    }
    if (epochs != null && epochs < 1) {
      throw new UserException("--epochs must be at least 1, got " + epochs);
    }
    TopologySpec spec = common.spec();
    Path dir = outDir != null ? outDir : Path.of("out", "backtest-" + spec.name());
    byte[] given = model == null ? null : readModel(spec);

    TrainingData all;
    try {
      all = TrainingData.fromCsv(spec, csv);
    } catch (Csv.FormatException e) {
      throw new UserException(e.getMessage());
    } catch (NoSuchFileException e) {
      throw new UserException("no such file: " + e.getFile());
    }
    TrainCommand.printCounts(out, all);
    if (all.series().isEmpty()) {
      throw new UserException(csv + ": no events to backtest");
    }
    int[] split = Backtest.split(all, trainFraction);
    for (int i = 0; i < split.length; i++) {
      TrainingData.Series s = all.series().get(i);
      if (split[i] < 1 || split[i] >= s.length()) {
        throw new UserException(
            String.format(
                Locale.ROOT,
                "series '%s' has %d events: --train-fraction %s leaves %s; it needs events on"
                    + " both sides of the split",
                s.id(),
                s.length(),
                trainFraction,
                split[i] < 1 ? "no history" : "nothing to score"));
      }
    }
    String label = String.format(Locale.ROOT, "first %.4g%%", 100 * trainFraction);
    TrainingData history = all.head(split, label, new FeaturePipeline(spec));

    byte[] onnx;
    if (given != null) {
      onnx = given;
    } else {
      // Before DJL starts: one PyTorch thread; more only fight over two cores on these small nets.
      System.setProperty("ai.djl.pytorch.num_threads", "1");
      System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
      TrainConfig cfg = TrainingRun.config(spec, seed, epochs);
      String version = TrainingRun.version(spec, Clock.systemUTC());
      out.printf(
          Locale.ROOT,
          "training %s %dx%d on the history part of %d series (%d events, the first %.4g%% of"
              + " each; inside it, validation %.0f%% and test the last %.0f%% as in `train`)%n",
          cfg.cell().id(),
          cfg.layers(),
          cfg.hiddenSize(),
          history.series().size(),
          history.events(),
          100 * trainFraction,
          100 * cfg.validationFraction(),
          100 * cfg.testFraction());
      TrainingRun.Result result = TrainCommand.train(spec, history, cfg, version);
      TrainCommand.printReport(out, result.report());
      TrainCommand.write(dir, result, out);
      onnx = result.onnx();
    }

    Backtest.Result result;
    try (StepModel m = StepModel.load(onnx, ExecutionConfig.cpu())) {
      out.printf(
          Locale.ROOT,
          "streaming %d events of %d series through model %s; scoring the %d after each"
              + " series' split%n",
          all.events(),
          all.series().size(),
          m.version(),
          all.events() - history.events());
      try {
        result =
            Backtest.run(
                spec,
                all,
                history,
                m,
                new Backtest.Options(
                    arOrder, trainFraction, given == null, injectOutliers, outlierSize));
      } catch (IllegalArgumentException e) {
        throw new UserException("cannot backtest model " + m.version() + ": " + e.getMessage());
      }
    }
    print(out, result.report());
    Files.createDirectories(dir);
    Path csvOut = dir.resolve("forecasts.csv");
    TrainCommand.atomicWrite(
        csvOut, forecastsCsv(result, spec.intervals().levels()).getBytes(StandardCharsets.UTF_8));
    Path json = dir.resolve("backtest.json");
    TrainCommand.atomicWrite(json, result.report().toJson().getBytes(StandardCharsets.UTF_8));
    out.println("wrote " + csvOut + " (" + result.rows().size() + " rows) and " + json);
    return 0;
  }

  /**
   * The --model file, refused with one line unless a running instance of the pipeline would take
   * it: loadable with valid golden vectors ({@link StepModel#load}) and fitting the pipeline.
   */
  private byte[] readModel(TopologySpec spec) throws Exception {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(model);
    } catch (NoSuchFileException e) {
      throw new UserException("no such file: " + model);
    }
    try (StepModel m = StepModel.load(bytes, ExecutionConfig.cpu());
        ModelRegistry registry =
            ModelSources.registry(spec, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE)) {
      String problem = registry.mismatch(m.spec());
      if (problem != null) {
        throw new UserException(
            "--model " + model + ": pipeline " + spec.name() + " would refuse it: " + problem);
      }
    } catch (ModelException e) {
      throw new UserException("--model " + model + ": " + e.getMessage());
    }
    return bytes;
  }

  static void print(PrintStream out, BacktestReport r) {
    out.printf(
        Locale.ROOT,
        "backtest of %s on %s: errors on the events after each series' split (the last %.4g%%),"
            + " in the target's units; AR(%d) fitted per series on its history part only%n",
        r.model(),
        r.source(),
        100 * (1 - r.trainFraction()),
        r.arOrder());
    List<String> outputs = r.outputs();
    for (int o = 0; o < outputs.size(); o++) {
      if (outputs.size() > 1) {
        out.println("output " + outputs.get(o) + ":");
      }
      out.print(r.toTable(o));
    }
    out.println(
        "prediction intervals of "
            + outputs.get(0)
            + " (counted over intervals whose record was warm) and anomalies (policy "
            + r.anomalyPolicy()
            + "):");
    out.print(r.toCoverageTable());
    for (String w : r.warnings()) {
      out.println("warning: " + w);
    }
  }

  /**
   * One row per scored forecast: series, the time of the event forecast, the output, the actual,
   * each forecaster's forecast, the model's interval bounds per level and the anomaly flag.
   */
  static String forecastsCsv(Backtest.Result result, List<Double> levels) {
    StringBuilder sb =
        new StringBuilder("series,time,output,actual,model,persistence,seasonal,ar,ar_levels");
    for (double l : levels) {
      sb.append(",lower_").append(l).append(",upper_").append(l);
    }
    sb.append(",anomaly,held\n");
    for (Backtest.Row r : result.rows()) {
      sb.append(FeaturesCommand.quote(r.series()))
          .append(',')
          .append(java.time.Instant.ofEpochMilli(r.time()))
          .append(',')
          .append(r.output());
      cell(sb, r.actual());
      cell(sb, r.model());
      cell(sb, r.persistence());
      cell(sb, r.seasonalNaive());
      cell(sb, r.linearAr());
      cell(sb, r.levelAr());
      for (int l = 0; l < levels.size(); l++) {
        cell(sb, l < r.lower().length ? r.lower()[l] : Double.NaN);
        cell(sb, l < r.upper().length ? r.upper()[l] : Double.NaN);
      }
      sb.append(',').append(r.anomaly()).append(',').append(r.held()).append('\n');
    }
    return sb.toString();
  }

  private static void cell(StringBuilder sb, double v) {
    sb.append(',');
    if (!Double.isNaN(v)) {
      sb.append(v);
    }
  }
}
