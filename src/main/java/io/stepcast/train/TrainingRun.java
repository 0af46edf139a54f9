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
import java.util.List;
import java.util.Locale;
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
 *       state gives the trainer's own forward pass, within {@link #EXPORT_TOLERANCE} (raw outputs).
 *   <li><b>Training/serving parity</b>: streaming every series event by event through the exported
 *       model, the way a serving instance does (features from the shared pipeline, state carried
 *       from the series' first event), reproduces the trainer's validation MAE within {@link
 *       #SERVING_TOLERANCE} (relative).
 * </ul>
 */
public final class TrainingRun {

  /** Largest allowed difference between ONNX Runtime and the trainer's forward pass. */
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
    return rows - RnnTrainer.validationLength(rows, cfg.validationFraction());
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
                "series '%s' has %d events, too short to split into training and validation: with"
                    + " chunkLength=%d and validationFraction=%s a series needs at least %d events"
                    + " (the last event only serves as the label of the one before)",
                s.id(),
                s.length(),
                cfg.chunkLength(),
                cfg.validationFraction(),
                minRows + 1));
      }
    }
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    long start = System.nanoTime();
    TrainResult trained = new RnnTrainer().train(data.seriesData(), cfg, listener);
    long trainMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    RnnWeights w = trained.weights();

    List<float[][]> trainerOutputs = new ArrayList<>();
    for (TrainingData.Series s : data.series()) {
      trainerOutputs.add(RnnTrainer.forward(w, s.rows().x()));
    }
    Scoring scoring = new Scoring(spec, cfg, pipeline, data);
    for (int i = 0; i < data.series().size(); i++) {
      TrainingData.Series s = data.series().get(i);
      float[][] y = trainerOutputs.get(i);
      double[] forecasts = new double[s.rows().x().length];
      for (int t = 0; t < forecasts.length; t++) {
        forecasts[t] = pipeline.forecast(y[t][0], s.rows().targets()[t]);
      }
      scoring.model(i, forecasts);
    }
    TrainingReport draft = scoring.report(version, trained, trainMillis, null);

    float[][] goldenX = goldenInputs(data);
    float[][] goldenY = RnnTrainer.forward(w, goldenX);
    ModelSpec modelSpec =
        PipelineModels.specFor(spec, version, cfg.cell(), cfg.layers(), cfg.hiddenSize())
            .training(draft.figures())
            .golden(new ModelSpec.GoldenVectors(goldenX, goldenY))
            .build();
    byte[] onnx = StepModelBuilder.build(w, modelSpec);

    TrainingReport.Parity parity;
    try (StepModel model = StepModel.load(onnx, ExecutionConfig.cpu())) {
      double maxDiff = 0;
      String where = "";
      for (int i = 0; i < data.series().size(); i++) {
        TrainingData.Series s = data.series().get(i);
        float[][] onnxY = ServingReplay.outputs(model, s.rows().x());
        float[][] torchY = trainerOutputs.get(i);
        for (int t = 0; t < onnxY.length; t++) {
          for (int k = 0; k < onnxY[t].length; k++) {
            double d = Math.abs((double) onnxY[t][k] - torchY[t][k]);
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
      Scoring served = new Scoring(spec, cfg, pipeline, data);
      for (int i = 0; i < data.series().size(); i++) {
        served.model(i, ServingReplay.forecasts(model, spec, data.series().get(i).events()));
      }
      double trainerMae = scoring.overallModel().mae();
      double servingMae = served.overallModel().mae();
      double rel = Math.abs(servingMae - trainerMae) / Math.max(trainerMae, 1e-12);
      parity =
          new TrainingReport.Parity(
              maxDiff, EXPORT_TOLERANCE, trainerMae, servingMae, rel, SERVING_TOLERANCE);
      if (!(rel <= SERVING_TOLERANCE)) {
        throw new ParityException(
            String.format(
                Locale.ROOT,
                "training/serving parity failed: streaming the validation events through the"
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
        version, onnx, scoring.report(version, trained, trainMillis, parity), trained);
  }

  /**
   * Scores a model on the same validation events a training run scores, streaming each series
   * through it event by event from its first event (the way the promotion gate judges the live
   * model).
   */
  public static Accuracy evaluate(
      StepModel model, TopologySpec spec, TrainingData data, TrainConfig cfg)
      throws ModelException {
    Scoring s = new Scoring(spec, cfg, new FeaturePipeline(spec), data);
    for (int i = 0; i < data.series().size(); i++) {
      s.model(i, ServingReplay.forecasts(model, spec, data.series().get(i).events()));
    }
    return s.overallModel();
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

  /** Errors of the model and the baselines on every series' validation rows. */
  private static final class Scoring {
    private final TopologySpec spec;
    private final TrainConfig cfg;
    private final FeaturePipeline pipeline;
    private final TrainingData data;
    private final Accuracy.Sum[] model;

    Scoring(TopologySpec spec, TrainConfig cfg, FeaturePipeline pipeline, TrainingData data) {
      this.spec = spec;
      this.cfg = cfg;
      this.pipeline = pipeline;
      this.data = data;
      this.model = new Accuracy.Sum[data.series().size()];
    }

    /** Scores forecasts of series i: {@code forecasts[t]} is the forecast of event t+1. */
    void model(int i, double[] forecasts) {
      TrainingData.Series s = data.series().get(i);
      int rows = s.rows().x().length;
      Accuracy.Sum sum = new Accuracy.Sum();
      double[] targets = s.rows().targets();
      for (int t = validationStart(rows, cfg); t < rows; t++) {
        sum.add(targets[t + 1] - forecasts[t]);
      }
      model[i] = sum;
    }

    Accuracy overallModel() {
      Accuracy.Sum all = new Accuracy.Sum();
      for (Accuracy.Sum s : model) {
        all.add(s);
      }
      return all.accuracy();
    }

    TrainingReport report(
        String version, TrainResult trained, long trainMillis, TrainingReport.Parity parity) {
      Integer season = spec.target().season();
      Accuracy.Sum allModel = new Accuracy.Sum();
      Accuracy.Sum allPersist = new Accuracy.Sum();
      Accuracy.Sum allSeasonal = new Accuracy.Sum();
      Accuracy.Sum allAr = new Accuracy.Sum();
      boolean arOk = true;
      int allRows = 0;
      int allTrain = 0;
      int allEvents = 0;
      List<TrainingReport.SeriesReport> per = new ArrayList<>();
      for (int i = 0; i < data.series().size(); i++) {
        TrainingData.Series s = data.series().get(i);
        var rows = s.rows();
        int n = rows.x().length;
        int v = validationStart(n, cfg);
        Accuracy.Sum persist = new Accuracy.Sum();
        Accuracy.Sum seasonal = new Accuracy.Sum();
        Accuracy.Sum ar = new Accuracy.Sum();
        Baselines.LinearAr fit = null;
        try {
          fit = Baselines.LinearAr.fit(rows, v, Baselines.AR_LAGS);
        } catch (IllegalArgumentException e) {
          arOk = false;
          LOG.warn("series {}: no linear AR baseline: {}", s.id(), e.getMessage());
        }
        for (int t = v; t < n; t++) {
          double actual = rows.targets()[t + 1];
          persist.add(actual - Baselines.persistence(rows, t));
          if (season != null) {
            seasonal.add(actual - Baselines.seasonalNaive(rows, t, season));
          }
          if (fit != null) {
            ar.add(actual - fit.forecast(rows, t, pipeline));
          }
        }
        allModel.add(model[i]);
        allPersist.add(persist);
        allSeasonal.add(seasonal);
        allAr.add(ar);
        allRows += n - v;
        allTrain += v;
        allEvents += s.length();
        per.add(
            new TrainingReport.SeriesReport(
                s.id(),
                s.length(),
                v,
                n - v,
                TrainingReport.Scores.of(model[i].accuracy()),
                TrainingReport.Scores.of(persist.accuracy()),
                season == null ? null : TrainingReport.Scores.of(seasonal.accuracy()),
                fit == null ? null : TrainingReport.Scores.of(ar.accuracy())));
      }
      TrainingReport.SeriesReport overall =
          new TrainingReport.SeriesReport(
              "(all)",
              allEvents,
              allTrain,
              allRows,
              TrainingReport.Scores.of(allModel.accuracy()),
              TrainingReport.Scores.of(allPersist.accuracy()),
              season == null ? null : TrainingReport.Scores.of(allSeasonal.accuracy()),
              arOk ? TrainingReport.Scores.of(allAr.accuracy()) : null);
      return new TrainingReport(
          spec.name(),
          version,
          data.source(),
          spec.target().field(),
          spec.target().transform().name().toLowerCase(Locale.ROOT),
          season,
          cfg.cell().id() + " " + cfg.layers() + "x" + cfg.hiddenSize(),
          trained.epochs(),
          trained.bestValLoss(),
          trainMillis,
          cfg.validationFraction(),
          Baselines.AR_LAGS,
          data.counts(),
          per,
          overall,
          parity);
    }
  }
}
