package io.stepcast.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.engine.RecentInputs;
import io.stepcast.engine.StepEngine;
import io.stepcast.engine.StepListener;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.StepModel;
import io.stepcast.state.SeriesState;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prediction intervals' goal on data the model was not trained on, as the demo runs it: train
 * on the first 70% of each sample series, then stream every event of the series through the serving
 * {@link StepEngine} with the exported ONNX model and count, on the last 30% only and once the
 * series' intervals are warm, how many actuals fall inside each level's interval around the
 * forecast made one event earlier.
 *
 * <p>Deterministic: the data, the training seed and the engine are fixed, so a run gives the same
 * figures every time; the test fails when a change to the calibration, the engine or the trainer
 * moves coverage away from nominal.
 */
class IntervalCoverageTest {
  private static final Logger LOG = LoggerFactory.getLogger(IntervalCoverageTest.class);

  /** Coverage counts of the held-out part, per level. */
  private static final class Tally implements StepListener {
    final long[] inside;
    final long[] total;
    boolean on;

    Tally(int levels) {
      inside = new long[levels];
      total = new long[levels];
    }

    @Override
    public void covered(int level, boolean in) {
      if (on) {
        total[level]++;
        if (in) {
          inside[level]++;
        }
      }
    }

    double coverage(int level) {
      return (double) inside[level] / total[level];
    }
  }

  private static Tally heldOutCoverage(TopologySpec spec, Path csv, double trainFraction)
      throws Exception {
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    TrainingData all = TrainingData.fromCsv(spec, csv);
    TrainingData head = all.head(trainFraction, pipeline);
    TrainConfig cfg = TrainingRun.config(spec, null, null);
    TrainingRun.Result result =
        TrainingRun.run(spec, head, cfg, spec.name() + "-coverage", TrainingListener.NONE);
    Tally tally = new Tally(spec.intervals().levels().size());
    try (StepModel model = StepModel.load(result.onnx(), ExecutionConfig.cpu());
        StepEngine engine = new StepEngine(spec, 1, RecentInputs.NONE, tally)) {
      engine.use(model);
      for (int i = 0; i < all.series().size(); i++) {
        TrainingData.Series series = all.series().get(i);
        int split = head.series().get(i).length();
        SeriesState st = null;
        List<Event> events = series.events();
        for (int t = 0; t < events.size(); t++) {
          // Only actuals of the held-out part count; each scores the forecast made before it.
          tally.on = t >= split;
          Event e = events.get(t).copy();
          int slot = engine.stepOne(e.seriesId(), e, st);
          assertThat(slot).as("event %d of %s: %s", t, series.id(), engine.refusal()).isZero();
          st = engine.state(slot);
          engine.clear();
        }
      }
    }
    for (int l = 0; l < tally.total.length; l++) {
      LOG.info(
          String.format(
              Locale.ROOT,
              "%s: level %.2f coverage %.4f over %d held-out warm actuals",
              spec.name(),
              spec.intervals().levels().get(l),
              tally.coverage(l),
              tally.total[l]));
    }
    return tally;
  }

  @Test
  void shouldCoverEachLevelWithinTwoPointsOfNominalOnHeldOutWeather() throws Exception {
    TopologySpec spec = SpecFixtures.weather();
    Tally tally = heldOutCoverage(spec, Path.of("samples/seattle-weather-hourly-normals.csv"), 0.7);
    List<Double> levels = spec.intervals().levels();
    assertThat(levels).containsExactly(0.8, 0.95);
    for (int l = 0; l < levels.size(); l++) {
      // 2,628 held-out hours minus the calibration's warm-up: over 2,500 actuals per level, where
      // chance alone moves coverage by 0.8 (80%) and 0.4 (95%) points (one binomial standard
      // deviation), so two points is the goal, not luck.
      assertThat(tally.total[l]).isGreaterThan(2_500);
      assertThat(tally.coverage(l))
          .as("level %s", levels.get(l))
          .isBetween(levels.get(l) - 0.02, levels.get(l) + 0.02);
    }
  }

  @Test
  void shouldCoverStockPricesNearNominalOverTheirFewHeldOutMonths() throws Exception {
    TopologySpec spec = SpecFixtures.stocks();
    Tally tally = heldOutCoverage(spec, Path.of("samples/stocks.csv"), 0.7);
    List<Double> levels = spec.intervals().levels();
    for (int l = 0; l < levels.size(); l++) {
      double nominal = levels.get(l);
      // Five series of 20 to 37 held-out months (2007-2010, the crash included): about 170
      // actuals, where one binomial standard deviation is 3.1 points at 80% and 1.7 at 95%. Two
      // points would be luck either way; two standard deviations is what these months can show.
      double tolerance = 2 * Math.sqrt(nominal * (1 - nominal) / tally.total[l]);
      assertThat(tally.total[l]).isGreaterThan(160);
      assertThat(tally.coverage(l))
          .as("level %s", nominal)
          .isBetween(nominal - tolerance, nominal + tolerance);
    }
  }
}
