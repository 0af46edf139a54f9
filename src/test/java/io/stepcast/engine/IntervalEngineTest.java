package io.stepcast.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.AnomalyPolicy;
import io.stepcast.features.Event;
import io.stepcast.features.Rejection;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.StepModel;
import io.stepcast.state.SeriesState;
import io.stepcast.train.PipelineModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Prediction intervals and the anomaly policies in the step engine every runtime calls. */
class IntervalEngineTest {
  private static final long HOUR = 3_600_000L;
  private static final long T0 = 1262307600000L;
  private static final int OUTLIER = 200;

  private final TopologySpec weather = SpecFixtures.weather();
  private StepModel model;

  @BeforeEach
  void load() throws Exception {
    model = StepModel.load(PipelineModels.fixed(weather, 1), ExecutionConfig.cpu());
  }

  @AfterEach
  void close() {
    model.close();
  }

  /** A daily cycle with noise, seeded: the same series on every run. */
  private static double[] temperatures(int n) {
    SplittableRandom r = new SplittableRandom(11);
    double[] t = new double[n];
    for (int i = 0; i < n; i++) {
      t[i] = 8 + 5 * Math.sin(2 * Math.PI * i / 24) + r.nextGaussian() * 0.4;
    }
    return t;
  }

  private static Event event(int hour, double temperature) {
    return Event.of("s", T0 + hour * HOUR, temperature, 1016.5, 3.5);
  }

  /** What one engine made of a series, event by event. */
  private static final class Run {
    final List<Double> forecasts = new ArrayList<>();
    final List<double[]> halfWidths = new ArrayList<>();
    final List<Boolean> anomalies = new ArrayList<>();
    final List<Boolean> held = new ArrayList<>();
    final List<Rejection> refusals = new ArrayList<>();
    final List<AnomalyPolicy> outcomes = new ArrayList<>();
    final List<int[]> covered = new ArrayList<>();
    SeriesState state;
    SeriesState refusedState;
  }

  private Run run(TopologySpec spec, double[] temps, boolean applyPolicy) {
    return run(spec, temps, applyPolicy, -1);
  }

  /** Steps the series hour by hour; from {@code skipHour} on, each event comes an hour later. */
  private Run run(TopologySpec spec, double[] temps, boolean applyPolicy, int skipHour) {
    Run out = new Run();
    StepListener listener =
        new StepListener() {
          @Override
          public void anomaly(AnomalyPolicy outcome) {
            out.outcomes.add(outcome);
          }

          @Override
          public void covered(int level, boolean inside) {
            out.covered.add(new int[] {level, inside ? 1 : 0});
          }
        };
    try (StepEngine engine = new StepEngine(spec, 1, RecentInputs.NONE, listener, applyPolicy)) {
      engine.use(model);
      int levels = engine.intervals().size();
      for (int t = 0; t < temps.length; t++) {
        int hour = skipHour >= 0 && t >= skipHour ? t + 1 : t;
        int slot = engine.stepOne("s", event(hour, temps[t]), out.state);
        if (slot < 0) {
          out.refusals.add(engine.refusal());
          out.refusedState = engine.refusedState();
          out.forecasts.add(Double.NaN);
          out.halfWidths.add(null);
          out.anomalies.add(null);
          out.held.add(null);
          continue;
        }
        out.state = engine.state(slot);
        out.forecasts.add(engine.forecast(slot));
        double[] hw = new double[levels];
        System.arraycopy(engine.halfWidths(), slot * levels, hw, 0, levels);
        out.halfWidths.add(hw);
        out.anomalies.add(engine.anomaly(slot));
        out.held.add(engine.held(slot));
        engine.clear();
      }
    }
    return out;
  }

  @Test
  void shouldScoreEachActualAgainstTheIntervalPublishedWithTheForecastItLabels() {
    double[] temps = temperatures(400);
    Run r = run(weather, temps, true);
    assertThat(r.halfWidths.get(0)).containsOnly(Double.NaN);
    int anomalies = 0;
    for (int t = 1; t < temps.length; t++) {
      double[] published = r.halfWidths.get(t - 1);
      double error = Math.abs(temps[t] - r.forecasts.get(t - 1));
      boolean outsideWidest = !Double.isNaN(published[1]) && error > published[1];
      assertThat(r.anomalies.get(t)).as("event %d", t).isEqualTo(outsideWidest);
      anomalies += outsideWidest ? 1 : 0;
      // Nested: the 80% interval inside the 95% one, both around the forecast.
      assertThat(r.halfWidths.get(t)[0]).isPositive().isLessThan(r.halfWidths.get(t)[1]);
    }
    // Some actuals fall outside the 95% interval, each flagged and stepped on (fewer than 5% in
    // a first 400 events: the multipliers start from Laplace tails, wide for Gaussian noise).
    assertThat(anomalies).isBetween(3, 40);
    assertThat(r.outcomes).hasSize(anomalies).containsOnly(AnomalyPolicy.FLAG);
    assertThat(r.held).doesNotContain(true);
    // Coverage is reported per level once the series has 50 scored errors (intervals.warmUp).
    assertThat(r.covered).hasSize(2 * (temps.length - 1 - 50));
    assertThat(r.state.intervalCount()).isEqualTo(temps.length - 1);
  }

  @Test
  void shouldHoldAnAnomalyOutOfTheRecurrentStateAndStepOnItsForecastInstead() {
    TopologySpec hold = SpecFixtures.withAnomalyPolicy(weather, AnomalyPolicy.HOLD);
    double[] withOutlier = Arrays.copyOf(temperatures(300), OUTLIER + 1);
    withOutlier[OUTLIER] += 25;
    Run held = run(hold, withOutlier, true);
    assertThat(held.anomalies.get(OUTLIER)).isTrue();
    assertThat(held.held.get(OUTLIER)).isTrue();
    assertThat(held.outcomes).last().isEqualTo(AnomalyPolicy.HOLD);
    // The reference: the same series with the forecast made for the outlier in its place.
    double[] imputed = withOutlier.clone();
    imputed[OUTLIER] = held.forecasts.get(OUTLIER - 1);
    Run reference = run(hold, imputed, true);
    assertThat(reference.anomalies.get(OUTLIER)).isFalse();
    assertThat(held.forecasts).containsExactlyElementsOf(reference.forecasts);
    assertThat(held.state.states()[0]).containsExactly(reference.state.states()[0]);
    assertThat(held.state.states()[1]).containsExactly(reference.state.states()[1]);
    assertThat(held.state.lastTarget()).isEqualTo(imputed[OUTLIER]);
    // Flagged, the outlier steps the network: the next forecast is pulled towards it.
    Run flagged = run(weather, withOutlier, true);
    assertThat(flagged.anomalies.get(OUTLIER)).isTrue();
    assertThat(flagged.held.get(OUTLIER)).isFalse();
    assertThat(flagged.forecasts.get(OUTLIER) - held.forecasts.get(OUTLIER)).isGreaterThan(10);
  }

  @Test
  void shouldDeadLetterAnAnomalyAfterLearningItsMissAndLeaveTheRecurrentStateAsIfItNeverCame() {
    TopologySpec dead = SpecFixtures.withAnomalyPolicy(weather, AnomalyPolicy.DEAD_LETTER);
    double[] temps = temperatures(300);
    double[] withOutlier = Arrays.copyOf(temps, OUTLIER + 2);
    withOutlier[OUTLIER] -= 25;
    Run r = run(dead, withOutlier, true);
    assertThat(r.forecasts.get(OUTLIER)).isNaN();
    assertThat(r.forecasts.get(OUTLIER + 1)).isNotNaN();
    assertThat(r.refusals).last().isEqualTo(Rejection.ANOMALY);
    assertThat(r.outcomes).last().isEqualTo(AnomalyPolicy.DEAD_LETTER);
    // The refused event's state is handed back to be stored: its miss is learnt.
    assertThat(r.refusedState).isSameAs(r.state);
    // The recurrent state never saw it: the series goes on as if the event had not come.
    double[] without = new double[OUTLIER + 1];
    System.arraycopy(temps, 0, without, 0, OUTLIER);
    without[OUTLIER] = temps[OUTLIER + 1];
    Run reference = run(dead, without, true, OUTLIER);
    assertThat(r.refusals).hasSize(reference.refusals.size() + 1);
    // The miss is in the calibration (else the widest interval would shrink on covered actuals
    // alone until every actual is an anomaly), and in the accuracy sums.
    assertThat(r.state.intervalCount()).isEqualTo(reference.state.intervalCount() + 1);
    assertThat(r.state.errorCount()).isEqualTo(reference.state.errorCount() + 1);
    assertThat(r.forecasts.get(OUTLIER + 1)).isEqualTo(reference.forecasts.get(OUTLIER));
    assertThat(r.state.states()[0]).containsExactly(reference.state.states()[0]);
  }

  @Test
  void shouldStepEveryActualInTheParityReplayWhateverThePolicy() {
    double[] temps = temperatures(300);
    temps[OUTLIER] += 25;
    for (AnomalyPolicy p : AnomalyPolicy.values()) {
      Run replay = run(SpecFixtures.withAnomalyPolicy(weather, p), temps, false);
      assertThat(replay.refusals).isEmpty();
      assertThat(replay.held).doesNotContain(true);
      assertThat(replay.anomalies.get(OUTLIER)).isTrue();
      assertThat(replay.forecasts).containsExactlyElementsOf(run(weather, temps, true).forecasts);
    }
  }

  @Test
  void shouldNotLetOneAbsurdActualWidenTheIntervalsOfTheEventsAfterIt() {
    double[] temps = temperatures(300);
    temps[OUTLIER] += 1000;
    Run r = run(SpecFixtures.withAnomalyPolicy(weather, AnomalyPolicy.HOLD), temps, true);
    double before = r.halfWidths.get(OUTLIER - 1)[1];
    // Clipped to the widest interval, the outlier raises the scale by at most 1/32 of it; the
    // multipliers move by learningRate.
    assertThat(r.halfWidths.get(OUTLIER)[1]).isLessThan(1.2 * before);
    assertThat(r.halfWidths.get(OUTLIER + 24)[1]).isLessThan(1.2 * before);
  }

  @Test
  void shouldWidenTheIntervalsWhenTheSeriesGetsNoisier() {
    double[] temps = temperatures(800);
    SplittableRandom r = new SplittableRandom(5);
    for (int i = 400; i < temps.length; i++) {
      temps[i] += r.nextGaussian() * 3;
    }
    Run run = run(weather, temps, true);
    double calm = run.halfWidths.get(399)[1];
    double noisy = run.halfWidths.get(799)[1];
    assertThat(noisy).isGreaterThan(3 * calm);
    // And the last 300 actuals of the noisy regime are covered near nominal.
    long inside80 = 0;
    long inside95 = 0;
    for (int t = 500; t < 800; t++) {
      double e = Math.abs(temps[t] - run.forecasts.get(t - 1));
      inside80 += e <= run.halfWidths.get(t - 1)[0] ? 1 : 0;
      inside95 += e <= run.halfWidths.get(t - 1)[1] ? 1 : 0;
    }
    assertThat(inside80 / 300.0).isBetween(0.72, 0.88);
    assertThat(inside95 / 300.0).isBetween(0.9, 0.99);
  }
}
