package io.stepcast.train;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.SeriesReplay;
import io.stepcast.model.ModelException;
import io.stepcast.model.StepModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The accuracy check a user runs on their own data: every event of every series streamed through
 * the serving engine ({@link ServingReplay#replay}, the step the live forecaster runs, with its lag
 * features, intervals, anomaly policy, targets and horizons) from the series' first event, and the
 * events after each series' split scored against persistence, seasonal-naive and two AR(p)
 * baselines fitted on the history part of that series only.
 *
 * <p>The forecast of output {@code target@h} made at event {@code t} is scored on event {@code t +
 * h} when that event is after the split; every baseline forecasts the same event from the same
 * origin {@code t}, and an event counts for a forecaster only when the model forecast it (so every
 * column covers the same events, except where a baseline has no forecast yet). The first output's
 * intervals made at {@code t} are scored on {@code t + 1}, counted only when event {@code t}'s
 * record said its intervals were warm.
 */
public final class Backtest {
  /** Seeds the outlier placement (plus the series' position): every run injects the same. */
  private static final long OUTLIER_SEED = 20_261_130L;

  private Backtest() {}

  /**
   * One scored forecast, a row of {@code forecasts.csv}: what each forecaster said at {@code
   * horizon} events before the event at {@code time} for its target.
   *
   * @param lower per level, the lower bound of the model's interval (first output only, else empty)
   * @param upper per level, the upper bound
   * @param anomaly the event was flagged (first output's rows only)
   */
  public record Row(
      String series,
      long time,
      String output,
      double actual,
      double model,
      double persistence,
      double seasonalNaive,
      double linearAr,
      double levelAr,
      double[] lower,
      double[] upper,
      boolean anomaly,
      boolean held) {}

  /**
   * How to backtest.
   *
   * @param arOrder the order p of both AR baselines
   * @param trainFraction the share of each series' events in its history (for the report)
   * @param trained whether the model was trained here on the history parts
   * @param outliers outliers to inject per series after its split for the anomaly check (0: none)
   * @param outlierSize how far an injected outlier lies from the actual, in mean absolute one-step
   *     changes of the series' history part
   */
  public record Options(
      int arOrder, double trainFraction, boolean trained, int outliers, double outlierSize) {}

  /** The report, every scored forecast, and the model's forecasts per series as streamed. */
  public record Result(BacktestReport report, List<Row> rows, List<ServingReplay.Replay> replays) {}

  /** Errors of the model and each baseline on one output. */
  private static final class Sums {
    final Accuracy.Sum model = new Accuracy.Sum();
    final Accuracy.Sum persistence = new Accuracy.Sum();
    final Accuracy.Sum seasonal = new Accuracy.Sum();
    final Accuracy.Sum linearAr = new Accuracy.Sum();
    final Accuracy.Sum levelAr = new Accuracy.Sum();

    void add(Sums o) {
      model.add(o.model);
      persistence.add(o.persistence);
      seasonal.add(o.seasonal);
      linearAr.add(o.linearAr);
      levelAr.add(o.levelAr);
    }
  }

  /** Coverage and anomaly counts. */
  private static final class Counts {
    long warm;
    final long[] inside;
    long anomalies;
    long held;

    Counts(int levels) {
      inside = new long[levels];
    }

    void add(Counts o) {
      warm += o.warm;
      for (int i = 0; i < inside.length; i++) {
        inside[i] += o.inside[i];
      }
      anomalies += o.anomalies;
      held += o.held;
    }

    BacktestReport.Coverage coverage() {
      List<Long> in = new ArrayList<>();
      List<Double> cov = new ArrayList<>();
      for (long x : inside) {
        in.add(x);
        cov.add(warm == 0 ? null : (double) x / warm);
      }
      return new BacktestReport.Coverage(warm, in, cov);
    }
  }

  /**
   * The events of each series at or after {@code round(length * fraction)} are scored; the ones
   * before are its history.
   */
  public static int[] split(TrainingData data, double fraction) {
    int[] out = new int[data.series().size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (int) Math.round(data.series().get(i).length() * fraction);
    }
    return out;
  }

  /**
   * Streams every series of {@code all} through {@code model} and scores it.
   *
   * @param history the first events of each series of {@code all}, in the same order (the split is
   *     their length); the AR baselines are fitted on these rows only
   * @throws ModelException when ONNX Runtime fails
   * @throws IllegalArgumentException when the model does not fit the pipeline
   */
  public static Result run(
      TopologySpec spec, TrainingData all, TrainingData history, StepModel model, Options options)
      throws ModelException {
    int arOrder = options.arOrder();
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    int outputs = pipeline.outputCount();
    int hc = pipeline.horizonCount();
    int levels = spec.intervals().levels().size();
    Integer season = spec.target().season();
    List<String> warnings = new ArrayList<>();
    List<Row> rows = new ArrayList<>();
    List<ServingReplay.Replay> replays = new ArrayList<>();
    List<BacktestReport.SeriesResult> per = new ArrayList<>();
    Sums[] allSums = newSums(outputs);
    boolean linearEverywhere = true;
    boolean[] levelEverywhere = new boolean[pipeline.targetCount()];
    Arrays.fill(levelEverywhere, true);
    Counts allCounts = new Counts(levels);
    List<BacktestReport.OutlierCheck> outlierChecks = new ArrayList<>();
    long allEvents = 0;
    long allHistory = 0;
    long allScored = 0;
    for (int i = 0; i < all.series().size(); i++) {
      TrainingData.Series full = all.series().get(i);
      TrainingData.Series past = history.series().get(i);
      if (!past.id().equals(full.id())) {
        throw new IllegalArgumentException(
            "history series " + past.id() + " is not series " + full.id());
      }
      int n = full.length();
      int split = past.length();
      SeriesReplay.Rows pastRows = past.rows();
      SeriesReplay.Rows fullRows = full.rows();
      Baselines.LinearAr linear = null;
      try {
        linear = Baselines.LinearAr.fit(pastRows, pastRows.x().length, arOrder);
      } catch (IllegalArgumentException e) {
        linearEverywhere = false;
        warnings.add(
            "series '" + full.id() + "': no AR(" + arOrder + ") baseline: " + e.getMessage());
      }
      Baselines.LevelAr[] level = new Baselines.LevelAr[pipeline.targetCount()];
      for (int j = 0; j < level.length; j++) {
        try {
          level[j] = Baselines.LevelAr.fit(pastRows.allTargets()[j], split, arOrder);
        } catch (IllegalArgumentException e) {
          levelEverywhere[j] = false;
          warnings.add(
              "series '"
                  + full.id()
                  + "', target "
                  + pipeline.targetNames().get(j)
                  + ": no AR("
                  + arOrder
                  + ") baseline of the levels: "
                  + e.getMessage());
        }
      }
      ServingReplay.Replay replay = ServingReplay.replay(model, spec, full.events(), true);
      replays.add(replay);
      Sums[] sums = newSums(outputs);
      Counts counts = new Counts(levels);
      for (int o = 0; o < outputs; o++) {
        int j = o / hc;
        int h = pipeline.horizon(o % hc);
        double[] values = fullRows.allTargets()[j];
        for (int e = Math.max(split, h); e < n; e++) {
          int t = e - h;
          double actual = values[e];
          double f = replay.forecasts()[t][o];
          double persistence = values[t];
          double seasonal =
              season == null ? Double.NaN : Baselines.seasonalNaive(values, t, h, season);
          double lin =
              o == 0 && linear != null && t >= arOrder - 1
                  ? linear.forecast(fullRows, t, pipeline)
                  : Double.NaN;
          double lvl = level[j] == null ? Double.NaN : level[j].forecast(values, t, h);
          double[] lower = new double[o == 0 ? levels : 0];
          double[] upper = new double[lower.length];
          for (int l = 0; l < lower.length; l++) {
            double hw = replay.halfWidths()[t][l];
            lower[l] = f - hw;
            upper[l] = f + hw;
          }
          boolean anomaly = o == 0 && replay.anomaly()[e];
          boolean held = o == 0 && replay.held()[e];
          rows.add(
              new Row(
                  full.id(),
                  full.events().get(e).timeMillis(),
                  pipeline.outputNames().get(o),
                  actual,
                  f,
                  persistence,
                  seasonal,
                  lin,
                  lvl,
                  lower,
                  upper,
                  anomaly,
                  held));
          if (o == 0) {
            counts.anomalies += anomaly ? 1 : 0;
            counts.held += held ? 1 : 0;
            if (replay.intervalsWarm()[t] && !replay.refused()[t]) {
              counts.warm++;
              for (int l = 0; l < levels; l++) {
                if (actual >= lower[l] && actual <= upper[l]) {
                  counts.inside[l]++;
                }
              }
            }
          }
          if (Double.isNaN(f)) {
            continue;
          }
          sums[o].model.add(actual - f);
          sums[o].persistence.add(actual - persistence);
          sums[o].seasonal.add(actual - seasonal);
          sums[o].linearAr.add(actual - lin);
          sums[o].levelAr.add(actual - lvl);
        }
        allSums[o].add(sums[o]);
      }
      BacktestReport.OutlierCheck check =
          options.outliers() > 0
              ? outlierCheck(spec, model, full, split, replay, i, options)
              : null;
      if (check != null) {
        outlierChecks.add(check);
      }
      allCounts.add(counts);
      allEvents += n;
      allHistory += split;
      allScored += n - split;
      boolean[] levelFitted = new boolean[level.length];
      for (int j = 0; j < level.length; j++) {
        levelFitted[j] = level[j] != null;
      }
      per.add(
          result(
              full.id(),
              n,
              split,
              n - split,
              sums,
              counts,
              pipeline,
              season,
              linear != null,
              levelFitted,
              check));
    }
    BacktestReport.SeriesResult overall =
        result(
            "(all)",
            allEvents,
            allHistory,
            allScored,
            allSums,
            allCounts,
            pipeline,
            season,
            linearEverywhere,
            levelEverywhere,
            options.outliers() > 0 ? sumOutliers(outlierChecks) : null);
    BacktestReport report =
        new BacktestReport(
            spec.name(),
            model.version(),
            options.trained(),
            all.source(),
            options.trainFraction(),
            arOrder,
            season,
            spec.policies().anomaly().name().toLowerCase(Locale.ROOT),
            spec.intervals().levels(),
            pipeline.outputNames(),
            per,
            overall,
            List.copyOf(warnings));
    return new Result(report, rows, replays);
  }

  /**
   * The anomaly check of one series: {@code options.outliers()} events after its split, placed at
   * random (seeded by the series' position, so every run injects the same) and never next to each
   * other, get a first target {@code outlierSize} mean absolute one-step changes of the history
   * part above or below the actual; the series is streamed again with them.
   */
  private static BacktestReport.OutlierCheck outlierCheck(
      TopologySpec spec,
      StepModel model,
      TrainingData.Series full,
      int split,
      ServingReplay.Replay clean,
      int seriesIndex,
      Options options)
      throws ModelException {
    int n = full.length();
    double[] values = full.rows().targets();
    double step = 0;
    for (int t = 1; t < split; t++) {
      step += Math.abs(values[t] - values[t - 1]);
    }
    step = split > 1 ? step / (split - 1) : 0;
    Random random = new Random(OUTLIER_SEED + seriesIndex);
    boolean[] chosen = new boolean[n];
    int wanted = Math.min(options.outliers(), (n - split + 1) / 2);
    for (int k = 0, tries = 0; k < wanted && tries < 100 * wanted; tries++) {
      int e = split + random.nextInt(n - split);
      if (chosen[e] || (e > split && chosen[e - 1]) || (e + 1 < n && chosen[e + 1])) {
        continue;
      }
      chosen[e] = true;
      k++;
    }
    List<Event> events = new ArrayList<>(n);
    for (int t = 0; t < n; t++) {
      Event e = full.events().get(t).copy();
      if (chosen[t]) {
        double sign = random.nextBoolean() ? 1 : -1;
        double v = values[t] + sign * options.outlierSize() * step;
        if (!inRange(spec, v)) {
          // The parser would dead-letter it as out_of_range before the series sees it.
          v = values[t] - sign * options.outlierSize() * step;
        }
        if (inRange(spec, v)) {
          e.replaceTarget(v);
        } else {
          chosen[t] = false;
        }
      }
      events.add(e);
    }
    ServingReplay.Replay replay = ServingReplay.replay(model, spec, events, true);
    List<BacktestReport.Outlier> injected = new ArrayList<>();
    long flagged = 0;
    long others = 0;
    long cleanFlags = 0;
    for (int t = split; t < n; t++) {
      cleanFlags += clean.anomaly()[t] ? 1 : 0;
      if (chosen[t]) {
        flagged += replay.anomaly()[t] ? 1 : 0;
        injected.add(
            new BacktestReport.Outlier(
                events.get(t).timeMillis(),
                values[t],
                events.get(t).target(),
                replay.anomaly()[t]));
      } else {
        others += replay.anomaly()[t] ? 1 : 0;
      }
    }
    return new BacktestReport.OutlierCheck(
        options.outlierSize(), step, injected.size(), flagged, others, cleanFlags, injected);
  }

  /** Whether a first-target value is inside the spec's {@code target.min}/{@code max}. */
  private static boolean inRange(TopologySpec spec, double v) {
    Double min = spec.target().min();
    Double max = spec.target().max();
    return (min == null || v >= min) && (max == null || v <= max);
  }

  /** The per-series outlier checks added up (their events stay with the series). */
  private static BacktestReport.OutlierCheck sumOutliers(List<BacktestReport.OutlierCheck> checks) {
    long injected = 0;
    long flagged = 0;
    long others = 0;
    long clean = 0;
    double size = Double.NaN;
    for (BacktestReport.OutlierCheck c : checks) {
      injected += c.injected();
      flagged += c.flagged();
      others += c.otherFlags();
      clean += c.cleanFlags();
      size = c.size();
    }
    return new BacktestReport.OutlierCheck(size, null, injected, flagged, others, clean, null);
  }

  private static Sums[] newSums(int n) {
    Sums[] s = new Sums[n];
    for (int i = 0; i < n; i++) {
      s[i] = new Sums();
    }
    return s;
  }

  private static BacktestReport.SeriesResult result(
      String id,
      long events,
      long history,
      long scored,
      Sums[] sums,
      Counts counts,
      FeaturePipeline pipeline,
      Integer season,
      boolean linearFitted,
      boolean[] levelFitted,
      BacktestReport.OutlierCheck outliers) {
    int hc = pipeline.horizonCount();
    List<BacktestReport.OutputResult> out = new ArrayList<>();
    for (int o = 0; o < sums.length; o++) {
      Sums s = sums[o];
      int j = o / hc;
      TrainingReport.Scores m = TrainingReport.Scores.of(s.model.accuracy());
      TrainingReport.Scores p = TrainingReport.Scores.of(s.persistence.accuracy());
      TrainingReport.Scores sn =
          season == null ? null : TrainingReport.Scores.of(s.seasonal.accuracy());
      TrainingReport.Scores lin =
          o == 0 && linearFitted ? TrainingReport.Scores.of(s.linearAr.accuracy()) : null;
      TrainingReport.Scores lvl =
          levelFitted[j] ? TrainingReport.Scores.of(s.levelAr.accuracy()) : null;
      Double bestAr = min(lin, lvl);
      out.add(
          new BacktestReport.OutputResult(
              pipeline.outputNames().get(o),
              pipeline.targetNames().get(j),
              pipeline.horizon(o % hc),
              m,
              p,
              sn,
              lin,
              lvl,
              ratio(m, p == null ? null : p.mae()),
              ratio(m, sn == null ? null : sn.mae()),
              ratio(m, bestAr)));
    }
    return new BacktestReport.SeriesResult(
        id,
        events,
        history,
        scored,
        out,
        counts.coverage(),
        counts.anomalies,
        counts.held,
        outliers);
  }

  private static Double min(TrainingReport.Scores a, TrainingReport.Scores b) {
    Double x = a == null ? null : a.mae();
    Double y = b == null ? null : b.mae();
    if (x == null) {
      return y;
    }
    return y == null ? x : Math.min(x, y);
  }

  private static Double ratio(TrainingReport.Scores model, Double reference) {
    if (model.mae() == null || reference == null || reference == 0) {
      return null;
    }
    return model.mae() / reference;
  }
}
