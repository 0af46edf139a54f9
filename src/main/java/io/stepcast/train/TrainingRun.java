package io.stepcast.train;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelException;
import io.stepcast.model.ModelSpec;
import io.stepcast.model.RnnWeights;
import io.stepcast.model.StepModel;
import io.stepcast.model.StepModelBuilder;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training run from history to a verified ONNX step model: train, score the model and the
 * baselines on the validation part of every series, export, and check parity before anything is
 * written.
 *
 * <p>Two checks must pass, or the run fails with {@link ParityException} and produces no model:
 *
 * <ul>
 *   <li><b>Export parity</b>: ONNX Runtime stepping over every row of every series from a zero
 *       state gives the trainer's own forward pass, within {@link #EXPORT_TOLERANCE} (raw outputs,
 *       relative above 1).
 *   <li><b>Training/serving parity</b>: streaming every series event by event through the exported
 *       model, the way a serving instance does (features from the shared pipeline, state carried
 *       from the series' first event), reproduces the trainer's validation MAE within {@link
 *       #SERVING_TOLERANCE} (relative).
 * </ul>
 */
public final class TrainingRun {

  /**
   * Largest allowed difference between ONNX Runtime and the trainer's forward pass, times {@code
   * max(1, |trainer's output|)} (as {@link io.stepcast.model.StepModel#GOLDEN_TOLERANCE}).
   */
  public static final double EXPORT_TOLERANCE = 1e-4;

  /** Largest allowed relative difference between the served and the trained validation MAE. */
  public static final double SERVING_TOLERANCE = 0.01;

  /** Golden steps stored in the model: real inputs from the start of the first series. */
  public static final int GOLDEN_STEPS = 16;

  private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);
  private static final DateTimeFormatter VERSION_TIME =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss", Locale.ROOT).withZone(ZoneOffset.UTC);

  private TrainingRun() {}

  /** A check that the exported model does what the trainer learned failed. */
  public static final class ParityException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ParityException(String message) {
      super(message);
    }
  }

  /**
   * What a run produced.
   *
   * @param version the model version
   * @param onnx the verified ONNX step model
   * @param report the figures
   * @param trained the trainer's result (weights, validation forecasts)
   */
  public record Result(String version, byte[] onnx, TrainingReport report, TrainResult trained) {}

  /**
   * A model version for the pipeline at the clock's current time: {@code
   * <pipeline>-<yyyyMMddHHmmss>}.
   */
  public static String version(TopologySpec spec, Clock clock) {
    return spec.name() + "-" + VERSION_TIME.format(clock.instant());
  }

  /**
   * The trainer's configuration from the spec's {@code training} section; {@code seed} and {@code
   * maxEpochs} override it when not null.
   */
  public static TrainConfig config(TopologySpec spec, Long seed, Integer maxEpochs) {
    TrainConfig cfg = TrainConfig.of(spec.training());
    if (maxEpochs != null) {
      cfg = cfg.withMaxEpochs(maxEpochs);
    }
    return seed != null ? cfg.withSeed(seed) : cfg;
  }

  /** The first validation row of a series with {@code rows} rows under {@code cfg}. */
  public static int validationStart(int rows, TrainConfig cfg) {
    return RnnTrainer.trainEnd(rows, cfg);
  }

  /** The first test row of a series with {@code rows} rows ({@code rows} when there is none). */
  public static int testStart(int rows, TrainConfig cfg) {
    return RnnTrainer.validationEnd(rows, cfg);
  }

  /**
   * The part of every series the promotion gate scores: the test part when there is one (neither
   * model picked anything on it), else the validation part (the new model picked its epoch there,
   * which favours it: the gate says so).
   */
  public static Part gatePart(TrainConfig cfg) {
    return cfg.testFraction() > 0 ? Part.TEST : Part.VALIDATION;
  }

  /** The held-out parts of a series scored in the report. */
  public enum Part {
    /** Rows after the training part up to the test part: they pick the epoch (early stopping). */
    VALIDATION,
    /** The last rows: never trained on, never used to pick anything. */
    TEST,
    /** Validation and test together: every row the trainer did not learn from. */
    HELD_OUT;

    /** Lowercase name, as in the report. */
    public String id() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    int from(int rows, TrainConfig cfg) {
      return this == TEST ? testStart(rows, cfg) : validationStart(rows, cfg);
    }

    int to(int rows, TrainConfig cfg) {
      return this == VALIDATION ? testStart(rows, cfg) : rows;
    }
  }

  /**
   * Trains, scores, exports and verifies.
   *
   * @throws IllegalArgumentException when the data cannot be trained on (no series, a series too
   *     short to split: the message names it and its length)
   * @throws ParityException when a parity check fails
   * @throws ModelException when ONNX Runtime refuses the exported model
   */
  public static Result run(
      TopologySpec spec,
      TrainingData data,
      TrainConfig cfg,
      String version,
      TrainingListener listener)
      throws ModelException {
    Objects.requireNonNull(version, "version");
    if (data.series().isEmpty()) {
      throw new IllegalArgumentException(
          data.source() + ": no events to train on (" + describe(data.counts()) + ")");
    }
    int minRows = RnnTrainer.minimumLength(cfg);
    for (TrainingData.Series s : data.series()) {
      if (s.rows().x().length < minRows) {
        throw new IllegalArgumentException(
            String.format(
                Locale.ROOT,
                "series '%s' has %d events, too short to split into training, validation and test:"
                    + " with chunkLength=%d, validationFraction=%s and testFraction=%s a series"
                    + " needs at least %d events (the last event only serves as the label of the"
                    + " one before)",
                s.id(),
                s.length(),
                cfg.chunkLength(),
                cfg.validationFraction(),
                cfg.testFraction(),
                minRows + 1));
      }
    }
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    List<String> warnings = warnings(pipeline, data, cfg);
    for (String warning : warnings) {
      LOG.warn(warning);
    }
    long start = System.nanoTime();
    TrainResult trained = new RnnTrainer().train(data.seriesData(), cfg, listener);
    long trainMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    RnnWeights w = trained.weights();

    List<float[][]> trainerOutputs = new ArrayList<>();
    for (TrainingData.Series s : data.series()) {
      trainerOutputs.add(RnnTrainer.forward(w, s.rows().x()));
    }
    Scoring scoring = new Scoring(cfg, data, pipeline);
    for (int i = 0; i < data.series().size(); i++) {
      TrainingData.Series s = data.series().get(i);
      float[][] y = trainerOutputs.get(i);
      double[][] all = s.rows().allTargets();
      int h = pipeline.horizonCount();
      double[][] forecasts = new double[s.rows().x().length][y.length == 0 ? 0 : y[0].length];
      for (int t = 0; t < forecasts.length; t++) {
        for (int o = 0; o < forecasts[t].length; o++) {
          forecasts[t][o] = pipeline.forecast(o / h, y[t][o], all[o / h][t]);
        }
      }
      scoring.model(i, forecasts);
    }
    BaselineScoring baselines = new BaselineScoring(spec, cfg, pipeline, data);
    TrainingReport draft =
        scoring.report(spec, baselines, version, trained, trainMillis, warnings, null, null);

    float[][] goldenX = goldenInputs(data);
    float[][] goldenY = RnnTrainer.forward(w, goldenX);
    ModelSpec modelSpec =
        PipelineModels.specFor(spec, version, cfg.cell(), cfg.layers(), w.hiddenSize())
            .training(draft.figures())
            .golden(new ModelSpec.GoldenVectors(goldenX, goldenY))
            .build();
    byte[] onnx = StepModelBuilder.build(w, modelSpec);

    TrainingReport.Parity parity;
    TrainingReport.Gate gate;
    try (StepModel model = StepModel.load(onnx, ExecutionConfig.cpu())) {
      double maxDiff = 0;
      String where = "";
      for (int i = 0; i < data.series().size(); i++) {
        TrainingData.Series s = data.series().get(i);
        float[][] onnxY = ServingReplay.outputs(model, s.rows().x());
        float[][] torchY = trainerOutputs.get(i);
        for (int t = 0; t < onnxY.length; t++) {
          for (int k = 0; k < onnxY[t].length; k++) {
            // Relative above 1, as the golden vectors: float32 alone cannot hold a raw output of
            // 1000 (a volume, untransformed) closer than 6e-5.
            double d =
                Math.abs((double) onnxY[t][k] - torchY[t][k])
                    / Math.max(1.0, Math.abs(torchY[t][k]));
            if (!(d <= maxDiff)) {
              maxDiff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
              where = "series '" + s.id() + "' row " + t;
            }
          }
        }
      }
      if (!(maxDiff <= EXPORT_TOLERANCE)) {
        throw new ParityException(
            "export parity failed: ONNX Runtime differs from the trainer's forward pass by "
                + maxDiff
                + " (at "
                + where
                + "), more than "
                + EXPORT_TOLERANCE
                + "; the model was not written");
      }
      Scoring served = new Scoring(cfg, data, pipeline);
      for (int i = 0; i < data.series().size(); i++) {
        served.model(i, ServingReplay.allForecasts(model, spec, data.series().get(i).events()));
      }
      double trainerMae = scoring.overall(Part.HELD_OUT).mae();
      double servingMae = served.overall(Part.HELD_OUT).mae();
      String worstOutput = pipeline.outputNames().get(0);
      double worstRel = -1;
      for (int o = 0; o < pipeline.outputCount(); o++) {
        double tm = scoring.output(o, Part.HELD_OUT).model.accuracy().mae();
        double sm = served.output(o, Part.HELD_OUT).model.accuracy().mae();
        double r = Math.abs(sm - tm) / Math.max(tm, 1e-12);
        if (!(r <= worstRel)) {
          worstRel = Double.isNaN(r) ? Double.POSITIVE_INFINITY : r;
          worstOutput = pipeline.outputNames().get(o);
        }
      }
      if (!(worstRel <= SERVING_TOLERANCE)) {
        throw new ParityException(
            String.format(
                Locale.ROOT,
                "training/serving parity failed for output %s: streaming the held-out events"
                    + " through the exported model differs from the trainer by %.2f%% (more than"
                    + " %.0f%%); the model was not written",
                worstOutput,
                100 * worstRel,
                100 * SERVING_TOLERANCE));
      }
      Part gatePart = gatePart(cfg);
      gate = new TrainingReport.Gate(gatePart.id(), served.overall(gatePart).mae());
      double rel = Math.abs(servingMae - trainerMae) / Math.max(trainerMae, 1e-12);
      parity =
          new TrainingReport.Parity(
              maxDiff, EXPORT_TOLERANCE, trainerMae, servingMae, rel, SERVING_TOLERANCE);
      if (!(rel <= SERVING_TOLERANCE)) {
        throw new ParityException(
            String.format(
                Locale.ROOT,
                "training/serving parity failed: streaming the held-out events through the"
                    + " exported model gives MAE %.6f, the trainer %.6f (%.2f%% apart, more than"
                    + " %.0f%%); the model was not written",
                servingMae,
                trainerMae,
                100 * rel,
                100 * SERVING_TOLERANCE));
      }
    }
    LOG.info(
        "model {}: export parity {} , serving MAE {} vs trainer {}",
        version,
        parity.exportMaxAbsDiff(),
        parity.servingMae(),
        parity.trainerMae());
    return new Result(
        version,
        onnx,
        scoring.report(spec, baselines, version, trained, trainMillis, warnings, parity, gate),
        trained);
  }

  /**
   * Scores a model on the part of every series the promotion gate uses ({@link #gatePart}),
   * streaming each series through it event by event from its first event, as a training run scores
   * its own model for {@link TrainingReport#gate()}.
   */
  public static Accuracy evaluate(
      StepModel model, TopologySpec spec, TrainingData data, TrainConfig cfg)
      throws ModelException {
    Scoring s = new Scoring(cfg, data, new FeaturePipeline(spec));
    for (int i = 0; i < data.series().size(); i++) {
      s.model(i, ServingReplay.allForecasts(model, spec, data.series().get(i).events()));
    }
    return s.overall(gatePart(cfg));
  }

  /**
   * One line per model input that is constant over the training parts of every series (for example
   * {@code hour_of_day} on daily data): the network cannot learn from it, and the scaling maps it
   * to zero. The same test as the scaling's ({@link Scaling#STD_FLOOR}).
   */
  static List<String> warnings(FeaturePipeline pipeline, TrainingData data, TrainConfig cfg) {
    List<SeriesData> series = data.seriesData();
    int[] trainEnd = new int[series.size()];
    for (int i = 0; i < trainEnd.length; i++) {
      trainEnd[i] = RnnTrainer.trainEnd(series.get(i).length(), cfg);
    }
    List<String> out = new ArrayList<>();
    if (series.isEmpty()) {
      return out;
    }
    double[][] moments = Scaling.moments(series, trainEnd, pipeline.width(), true);
    // One line per spec feature: a calendar feature's sine and cosine columns are one feature.
    Map<String, String> constant = new LinkedHashMap<>();
    for (int j = 0; j < pipeline.width(); j++) {
      if (moments[1][j] < Scaling.STD_FLOOR) {
        String column = pipeline.columns().get(j);
        String feature =
            column.endsWith(":sin") || column.endsWith(":cos")
                ? column.substring(0, column.length() - 4)
                : column;
        constant.merge(
            feature,
            String.format(Locale.ROOT, "%s = %.6g", column, moments[0][j]),
            (a, b) -> a + ", " + b);
      }
    }
    for (Map.Entry<String, String> e : constant.entrySet()) {
      out.add(
          "warning: feature '"
              + e.getKey()
              + "' is constant over the training data ("
              + e.getValue()
              + "): the model cannot learn from it; remove it from the spec's features (e.g."
              + " hour_of_day on daily data)");
    }
    return out;
  }

  private static float[][] goldenInputs(TrainingData data) {
    float[][] x = data.series().get(0).rows().x();
    int n = Math.min(GOLDEN_STEPS, x.length);
    float[][] out = new float[n][];
    for (int t = 0; t < n; t++) {
      out[t] = x[t].clone();
    }
    return out;
  }

  static String describe(TrainingData.Counts c) {
    return c.records()
        + " records read, "
        + c.rejectedTotal()
        + " rejected, "
        + c.skipped()
        + " skipped, "
        + c.duplicates()
        + " duplicates, "
        + c.unfillable()
        + " with nothing to carry forward";
  }

  /** Errors of the model (and, in the report, the baselines) on every series' held-out rows. */
  private static final class Scoring {
    private final TrainConfig cfg;
    private final TrainingData data;
    private final FeaturePipeline pipeline;
    private final double[][] forecasts;
    private final double[][][] outputs;

    Scoring(TrainConfig cfg, TrainingData data, FeaturePipeline pipeline) {
      this.cfg = cfg;
      this.data = data;
      this.pipeline = pipeline;
      this.forecasts = new double[data.series().size()][];
      this.outputs = new double[data.series().size()][][];
    }

    /**
     * Keeps the forecasts of series i: {@code f[t][o]} is output o made at event t, so {@code
     * f[t][0]} is the forecast of event t+1.
     */
    void model(int i, double[][] f) {
      outputs[i] = f;
      double[] first = new double[f.length];
      for (int t = 0; t < f.length; t++) {
        first[t] = f[t][0];
      }
      forecasts[i] = first;
    }

    /**
     * The model's and persistence's errors of output {@code o} (target {@code o / horizons},
     * horizon {@code horizons[o % horizons]}) over every series' {@code part}: forecasts made at
     * the part's events, scored where the later event exists.
     */
    BaselineScoring.Sums output(int o, Part part) {
      int hc = pipeline.horizonCount();
      int j = o / hc;
      int h = pipeline.horizon(o % hc);
      BaselineScoring.Sums sums = new BaselineScoring.Sums();
      for (int i = 0; i < outputs.length; i++) {
        TrainingData.Series s = data.series().get(i);
        int rows = s.rows().x().length;
        double[] actual = s.rows().allTargets()[j];
        for (int t = part.from(rows, cfg); t < part.to(rows, cfg); t++) {
          if (t + h < actual.length) {
            sums.model.add(actual[t + h] - outputs[i][t][o]);
            sums.persistence.add(actual[t + h] - actual[t]);
          }
        }
      }
      return sums;
    }

    /** Every output's figures on the validation and test parts; null for a single output. */
    List<TrainingReport.HorizonScores> horizons() {
      if (pipeline.outputCount() == 1) {
        return null;
      }
      List<TrainingReport.HorizonScores> out = new ArrayList<>();
      int hc = pipeline.horizonCount();
      for (int o = 0; o < pipeline.outputCount(); o++) {
        BaselineScoring.Sums v = output(o, Part.VALIDATION);
        BaselineScoring.Sums t = cfg.testFraction() > 0 ? output(o, Part.TEST) : null;
        out.add(
            new TrainingReport.HorizonScores(
                pipeline.targetNames().get(o / hc),
                pipeline.horizon(o % hc),
                horizonPart(v),
                t == null ? null : horizonPart(t)));
      }
      return List.copyOf(out);
    }

    private static TrainingReport.HorizonPart horizonPart(BaselineScoring.Sums s) {
      return new TrainingReport.HorizonPart(
          TrainingReport.Scores.of(s.model.accuracy()),
          TrainingReport.Scores.of(s.persistence.accuracy()));
    }

    /** The model's errors on {@code part} of series {@code i}. */
    Accuracy.Sum sum(int i, Part part) {
      TrainingData.Series s = data.series().get(i);
      int rows = s.rows().x().length;
      double[] targets = s.rows().targets();
      Accuracy.Sum sum = new Accuracy.Sum();
      for (int t = part.from(rows, cfg); t < part.to(rows, cfg); t++) {
        sum.add(targets[t + 1] - forecasts[i][t]);
      }
      return sum;
    }

    Accuracy overall(Part part) {
      Accuracy.Sum all = new Accuracy.Sum();
      for (int i = 0; i < forecasts.length; i++) {
        all.add(sum(i, part));
      }
      return all.accuracy();
    }

    TrainingReport report(
        TopologySpec spec,
        BaselineScoring baselines,
        String version,
        TrainResult trained,
        long trainMillis,
        List<String> warnings,
        TrainingReport.Parity parity,
        TrainingReport.Gate gate) {
      boolean test = cfg.testFraction() > 0;
      List<TrainingReport.SeriesReport> per = new ArrayList<>();
      BaselineScoring.Sums allVal = new BaselineScoring.Sums();
      BaselineScoring.Sums allTest = new BaselineScoring.Sums();
      int allEvents = 0;
      int allTrain = 0;
      int allValRows = 0;
      int allTestRows = 0;
      for (int i = 0; i < data.series().size(); i++) {
        TrainingData.Series s = data.series().get(i);
        int rows = s.rows().x().length;
        int v = validationStart(rows, cfg);
        int te = testStart(rows, cfg);
        BaselineScoring.Sums val = baselines.score(i, v, te).withModel(sum(i, Part.VALIDATION));
        BaselineScoring.Sums tst = baselines.score(i, te, rows).withModel(sum(i, Part.TEST));
        allVal.add(val);
        allTest.add(tst);
        allEvents += s.length();
        allTrain += v;
        allValRows += te - v;
        allTestRows += rows - te;
        per.add(
            new TrainingReport.SeriesReport(
                s.id(),
                s.length(),
                v,
                te - v,
                rows - te,
                val.part(baselines.season() != null, baselines.arFitted(i)),
                test ? tst.part(baselines.season() != null, baselines.arFitted(i)) : null));
      }
      TrainingReport.SeriesReport overall =
          new TrainingReport.SeriesReport(
              "(all)",
              allEvents,
              allTrain,
              allValRows,
              allTestRows,
              allVal.part(baselines.season() != null, baselines.arFittedEverywhere()),
              test
                  ? allTest.part(baselines.season() != null, baselines.arFittedEverywhere())
                  : null);
      return new TrainingReport(
          spec.name(),
          version,
          data.source(),
          spec.target().field(),
          spec.target().transform().name().toLowerCase(Locale.ROOT),
          baselines.season(),
          cfg.cell().id()
              + " "
              + cfg.layers()
              + "x"
              + cfg.hiddenSize()
              + (cfg.ensemble() > 1 ? " x" + cfg.ensemble() + " averaged" : ""),
          trained.epochs(),
          trained.bestValLoss(),
          trainMillis,
          cfg.validationFraction(),
          cfg.testFraction(),
          baselines.arOrder(),
          baselines.arOrderChosenBy(),
          trained.skippedUpdates(),
          trained.finalLearningRate(),
          List.copyOf(warnings),
          data.counts(),
          per,
          overall,
          gate,
          parity,
          horizons());
    }
  }
}
