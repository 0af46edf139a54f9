package io.stepcast.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.stepcast.config.TopologySpec.AnomalyPolicy;
import io.stepcast.features.Rejection;
import io.stepcast.model.ModelRegistry;
import io.stepcast.topology.ForecastMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The forecaster's own meters for one pipeline. Built once in {@link #bindTo}; the per-event
 * methods only record. Tags are bounded: pipeline, outcome, reason, forecaster, interval level (the
 * spec's, at most 8), model version (one live at a time) — never a series id.
 */
public final class PipelineMetrics implements ForecastMetrics, ModelRegistry.Listener, MeterBinder {
  /** Upper bounds of the step latency histogram's buckets. */
  static final Duration[] LATENCY_BUCKETS = {
    Duration.ofNanos(1_000),
    Duration.ofNanos(2_000),
    Duration.ofNanos(5_000),
    Duration.ofNanos(10_000),
    Duration.ofNanos(20_000),
    Duration.ofNanos(50_000),
    Duration.ofNanos(100_000),
    Duration.ofNanos(200_000),
    Duration.ofNanos(500_000),
    Duration.ofMillis(1),
    Duration.ofMillis(2),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(20),
    Duration.ofMillis(50),
    Duration.ofMillis(100)
  };

  private final String pipeline;
  private final List<String> targets;
  private final int[] horizons;
  private DistributionSummary[] horizonError;
  private DistributionSummary[] horizonErrorPersistence;
  private Counter[] horizonInside;
  private Counter[] horizonOutside;
  private final List<Double> levels;
  private Counter forecasts;
  private Counter[] inside;
  private Counter[] outside;
  private Counter[] anomalies;
  private Counter[] deadLetters;
  private Counter[] skipped;
  private Timer step;
  private DistributionSummary batch;
  private DistributionSummary absError;
  private DistributionSummary absErrorPersistence;
  private Counter swaps;
  private Counter refusals;
  private Counter burnIns;
  private MultiGauge modelInfo;
  private final Map<String, Long> seriesByTask = new ConcurrentHashMap<>();

  public PipelineMetrics(String pipeline) {
    this(pipeline, List.of(), List.of(), new int[0]);
  }

  /** Meters for a pipeline with prediction intervals at {@code levels}. */
  public PipelineMetrics(String pipeline, List<Double> levels) {
    this(pipeline, levels, List.of(), new int[0]);
  }

  /**
   * Meters for a pipeline with prediction intervals at {@code levels} that forecasts these targets
   * at these horizons: with more than one of either, {@code stepcast_forecast_horizon_abs_error}
   * per target and horizon (bounded by the spec).
   */
  public PipelineMetrics(
      String pipeline, List<Double> levels, List<String> targets, int[] horizons) {
    this.pipeline = pipeline;
    this.levels = List.copyOf(levels);
    this.targets = List.copyOf(targets);
    this.horizons = horizons.clone();
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Tags p = Tags.of("pipeline", pipeline);
    // Meters sharing a name share one description: Prometheus has one HELP line per name.
    String events = "Input events by outcome (forecast, dead_letter, skipped) and reason";
    String absErrorHelp =
        "Absolute error of each scored forecast, by forecaster (model, persistence), in the"
            + " target's units; live MAE = rate(sum)/rate(count)";
    forecasts =
        Counter.builder("stepcast.events")
            .description(events)
            .tags(p.and("outcome", "forecast", "reason", "none"))
            .register(registry);
    Rejection[] reasons = Rejection.values();
    deadLetters = new Counter[reasons.length];
    skipped = new Counter[reasons.length];
    for (Rejection r : reasons) {
      deadLetters[r.ordinal()] =
          Counter.builder("stepcast.events")
              .description(events)
              .tags(p.and("outcome", "dead_letter", "reason", r.id()))
              .register(registry);
      skipped[r.ordinal()] =
          Counter.builder("stepcast.events")
              .description(events)
              .tags(p.and("outcome", "skipped", "reason", r.id()))
              .register(registry);
    }
    step =
        Timer.builder("stepcast.step.latency")
            .description("Wall time of one ONNX Runtime step call")
            .tags(p)
            // Fixed buckets from 1 us to 100 ms: percentiles come from histogram_quantile() and
            // aggregate across instances; 16 buckets instead of Micrometer's ~70 defaults.
            .serviceLevelObjectives(LATENCY_BUCKETS)
            .register(registry);
    batch =
        DistributionSummary.builder("stepcast.step.batch.size")
            .description("Series stepped per ONNX Runtime call")
            .tags(p)
            .register(registry);
    absError =
        DistributionSummary.builder("stepcast.forecast.abs.error")
            .description(absErrorHelp)
            .tags(p.and("forecaster", "model"))
            .register(registry);
    absErrorPersistence =
        DistributionSummary.builder("stepcast.forecast.abs.error")
            .description(absErrorHelp)
            .tags(p.and("forecaster", "persistence"))
            .register(registry);
    bindHorizons(registry, p);
    bindHorizonIntervals(registry, p);
    String intervalHelp =
        "Actuals of warm series inside or outside the prediction interval of the forecast they"
            + " score, by nominal level; live coverage = rate(inside) / rate(all)";
    inside = new Counter[levels.size()];
    outside = new Counter[levels.size()];
    for (int i = 0; i < levels.size(); i++) {
      String level = Double.toString(levels.get(i));
      Counter in =
          Counter.builder("stepcast.interval.actuals")
              .description(intervalHelp)
              .tags(p.and("level", level, "outcome", "inside"))
              .register(registry);
      Counter out =
          Counter.builder("stepcast.interval.actuals")
              .description(intervalHelp)
              .tags(p.and("level", level, "outcome", "outside"))
              .register(registry);
      inside[i] = in;
      outside[i] = out;
      double nominal = levels.get(i);
      Gauge.builder("stepcast.interval.level", () -> nominal)
          .description(
              "The nominal coverage of a prediction interval level, a constant: the line live"
                  + " coverage is held to (dashboards draw it beside stepcast_interval_coverage)")
          .tags(p.and("level", level))
          .register(registry);
      Gauge.builder("stepcast.interval.coverage", () -> coverage(in, out))
          .description(
              "Share of warm series' actuals inside the prediction interval since this instance"
                  + " started, by nominal level (NaN before the first)")
          .tags(p.and("level", level))
          .register(registry);
    }
    AnomalyPolicy[] outcomes = AnomalyPolicy.values();
    anomalies = new Counter[outcomes.length];
    for (AnomalyPolicy o : outcomes) {
      anomalies[o.ordinal()] =
          Counter.builder("stepcast.anomalies")
              .description(
                  "Actuals outside the widest prediction interval, by what policies.anomaly did:"
                      + " flag, hold, dead_letter")
              .tags(p.and("outcome", o.name().toLowerCase(Locale.ROOT)))
              .register(registry);
    }
    swaps =
        Counter.builder("stepcast.model.swaps")
            .description(
                "Models swapped in while serving (the first model of an instance is not a swap)")
            .tags(p)
            .register(registry);
    refusals =
        Counter.builder("stepcast.model.refusals")
            .description("Models refused by validation; the current one kept serving")
            .tags(p)
            .register(registry);
    burnIns =
        Counter.builder("stepcast.model.burnins")
            .description("Series rebuilt for a new model by replaying their recent inputs")
            .tags(p)
            .register(registry);
    Gauge.builder("stepcast.series", seriesByTask, PipelineMetrics::sum)
        .description("Series held in this instance's active state stores")
        .tags(p)
        .register(registry);
    modelInfo =
        MultiGauge.builder("stepcast.model.info")
            .description("1, tagged with the version of the model serving the pipeline")
            .tags(p)
            .register(registry);
  }

  private void bindHorizons(MeterRegistry registry, Tags p) {
    int n = targets.size() * horizons.length;
    if (n <= 1) {
      horizonError = new DistributionSummary[0];
      horizonErrorPersistence = horizonError;
      return;
    }
    String help =
        "Absolute error of each scored forecast per target and horizon (events ahead), by"
            + " forecaster (model, persistence: the actual that many events before), in the"
            + " target's units";
    horizonError = new DistributionSummary[n];
    horizonErrorPersistence = new DistributionSummary[n];
    for (int j = 0; j < targets.size(); j++) {
      for (int k = 0; k < horizons.length; k++) {
        Tags t = p.and("target", targets.get(j), "horizon", Integer.toString(horizons[k]));
        horizonError[j * horizons.length + k] =
            DistributionSummary.builder("stepcast.forecast.horizon.abs.error")
                .description(help)
                .tags(t.and("forecaster", "model"))
                .register(registry);
        horizonErrorPersistence[j * horizons.length + k] =
            DistributionSummary.builder("stepcast.forecast.horizon.abs.error")
                .description(help)
                .tags(t.and("forecaster", "persistence"))
                .register(registry);
      }
    }
  }

  /**
   * Coverage per target, horizon and level with several outputs: targets x horizons x levels
   * meters, bounded by the spec (never per series).
   */
  private void bindHorizonIntervals(MeterRegistry registry, Tags p) {
    int n = targets.size() * horizons.length;
    if (n <= 1) {
      horizonInside = new Counter[0];
      horizonOutside = horizonInside;
      return;
    }
    String help =
        "Actuals inside or outside the prediction interval of the forecast they score, per target,"
            + " horizon (events ahead) and nominal level, once that output's calibration is warm;"
            + " live coverage = rate(inside) / rate(all)";
    int l = levels.size();
    horizonInside = new Counter[n * l];
    horizonOutside = new Counter[n * l];
    for (int j = 0; j < targets.size(); j++) {
      for (int k = 0; k < horizons.length; k++) {
        for (int i = 0; i < l; i++) {
          Tags t =
              p.and(
                  "target",
                  targets.get(j),
                  "horizon",
                  Integer.toString(horizons[k]),
                  "level",
                  Double.toString(levels.get(i)));
          Counter in =
              Counter.builder("stepcast.interval.horizon.actuals")
                  .description(help)
                  .tags(t.and("outcome", "inside"))
                  .register(registry);
          Counter out =
              Counter.builder("stepcast.interval.horizon.actuals")
                  .description(help)
                  .tags(t.and("outcome", "outside"))
                  .register(registry);
          int at = (j * horizons.length + k) * l + i;
          horizonInside[at] = in;
          horizonOutside[at] = out;
          Gauge.builder("stepcast.interval.horizon.coverage", () -> coverage(in, out))
              .description(
                  "Share of actuals inside the prediction interval since this instance started,"
                      + " per target, horizon and nominal level, once warm (NaN before the first)")
              .tags(t)
              .register(registry);
        }
      }
    }
  }

  @Override
  public void coveredHorizon(int target, int horizon, int level, boolean in) {
    int at = (target * horizons.length + horizon) * levels.size() + level;
    if (level < levels.size() && at < horizonInside.length) {
      (in ? horizonInside : horizonOutside)[at].increment();
    }
  }

  @Override
  public void scoredHorizon(int target, int horizon, double err, double errPersistence) {
    int i = target * horizons.length + horizon;
    horizonError[i].record(err);
    horizonErrorPersistence[i].record(errPersistence);
  }

  @Override
  public void forecast() {
    forecasts.increment();
  }

  @Override
  public void deadLetter(Rejection reason) {
    deadLetters[reason.ordinal()].increment();
  }

  @Override
  public void skipped(Rejection reason) {
    skipped[reason.ordinal()].increment();
  }

  @Override
  public void step(long nanos, int n) {
    step.record(nanos, TimeUnit.NANOSECONDS);
    batch.record(n);
  }

  @Override
  public void scored(double err, double errPersistence) {
    absError.record(err);
    absErrorPersistence.record(errPersistence);
  }

  @Override
  public void covered(int level, boolean in) {
    // Levels beyond those this binder was built with are not counted (never a dead thread).
    if (level < inside.length) {
      (in ? inside : outside)[level].increment();
    }
  }

  @Override
  public void anomaly(AnomalyPolicy outcome) {
    anomalies[outcome.ordinal()].increment();
  }

  private static double coverage(Counter in, Counter out) {
    double n = in.count() + out.count();
    return n == 0 ? Double.NaN : in.count() / n;
  }

  @Override
  public void burnIn() {
    burnIns.increment();
  }

  @Override
  public void seriesHeld(String task, long count) {
    seriesByTask.put(task, count);
  }

  @Override
  public void seriesReleased(String task) {
    seriesByTask.remove(task);
  }

  private static double sum(Map<String, Long> byTask) {
    long n = 0;
    for (long v : byTask.values()) {
      n += v;
    }
    return n;
  }

  @Override
  public void swapped(String previous, String current) {
    if (previous != null) {
      swaps.increment();
    }
    modelInfo.register(List.of(MultiGauge.Row.of(Tags.of("version", current), 1)), true);
  }

  @Override
  public void refused(String source, String reason) {
    refusals.increment();
  }
}
