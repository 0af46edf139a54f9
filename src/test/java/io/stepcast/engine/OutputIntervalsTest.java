package io.stepcast.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.IntervalsOnSwap;
import io.stepcast.features.Event;
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

/**
 * Intervals on every output (target x horizon), each calibrated on its own errors, and what a new
 * model taking over a series does to the calibration.
 */
class OutputIntervalsTest {
  private static final long HOUR = 3_600_000L;
  private static final long T0 = 1262307600000L;
  private static final int[] HORIZONS = {1, 6, 24};

  private final TopologySpec horizons = SpecFixtures.weatherHorizons();
  private final TopologySpec weather = SpecFixtures.weather();
  private final List<StepModel> models = new ArrayList<>();

  @BeforeEach
  void load() throws Exception {
    models.add(StepModel.load(PipelineModels.fixed(horizons, 5), ExecutionConfig.cpu()));
    models.add(StepModel.load(PipelineModels.fixed(horizons, 6), ExecutionConfig.cpu()));
    models.add(StepModel.load(PipelineModels.fixed(weather, 1), ExecutionConfig.cpu()));
    models.add(StepModel.load(PipelineModels.fixed(weather, 2), ExecutionConfig.cpu()));
  }

  @AfterEach
  void close() {
    for (StepModel m : models) {
      m.close();
    }
  }

  /** Hourly temperature (a daily cycle with noise) and wind, seeded: the same on every run. */
  private static List<Event> events(int n) {
    SplittableRandom r = new SplittableRandom(3);
    List<Event> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double temperature = 8 + 5 * Math.sin(2 * Math.PI * i / 24) + r.nextGaussian() * 0.4;
      double wind = 3 + Math.cos(2 * Math.PI * i / 24) + r.nextGaussian() * 0.3;
      out.add(Event.of("s", T0 + i * HOUR, temperature, 1016.5 + r.nextGaussian(), wind));
    }
    return out;
  }

  private static Event weatherEvent(Event e) {
    return Event.of("s", e.timeMillis(), e.target(), 1016.5, 3.5);
  }

  /** What one output of the engine published and learnt, event by event. */
  private static final class Tape implements StepListener {
    final List<double[]> errors = new ArrayList<>();
    final long[] covered = new long[6 * 2];
    final long[] coveredInside = new long[6 * 2];
    long coveredFirst;

    @Override
    public void scoredHorizon(int target, int horizon, double absError, double persistence) {
      errors.add(new double[] {target, horizon, absError});
    }

    @Override
    public void coveredHorizon(int target, int horizon, int level, boolean inside) {
      int at = (target * 3 + horizon) * 2 + level;
      covered[at]++;
      coveredInside[at] += inside ? 1 : 0;
    }

    @Override
    public void covered(int level, boolean inside) {
      coveredFirst++;
    }
  }

  /**
   * The calibration an output should have, computed independently of {@link IntervalCalibration}:
   * adaptive conformal on |error| / scale, the scale a running mean then an exponential average;
   * each level learns whether the error fell inside the half-width published with the forecast
   * (with none published, the current one).
   */
  private static final class Reference {
    final double[] levels = {0.8, 0.95};
    final double[] m = {-Math.log(0.2), -Math.log(0.05)};
    double scale;
    int n;

    void learn(double e, double[] published) {
      if (n == 0) {
        scale = e;
        n = 1;
        return;
      }
      boolean warm = n >= 50;
      // A forecast made before its output had an interval: against the calibration as it is.
      boolean none = Double.isNaN(published[0]);
      double widest = none ? m[1] * scale : published[1];
      for (int i = 0; i < 2; i++) {
        boolean out = e > (none ? m[i] * scale : published[i]);
        m[i] = Math.max(0, m[i] + 0.05 * ((out ? 1 : 0) - (1 - levels[i])));
      }
      double clipped = warm ? Math.min(e, widest) : e;
      scale += Math.max(1.0 / 32, 1.0 / (n + 1)) * (clipped - scale);
      n++;
    }
  }

  @Test
  void shouldCalibrateEveryOutputOnItsOwnErrorsOnceItsActualArrives() {
    List<Event> events = events(300);
    Tape tape = new Tape();
    // Per output, the reference calibration fed with that output's scored errors, in order.
    Reference[] refs = new Reference[6];
    for (int o = 0; o < 6; o++) {
      refs[o] = new Reference();
    }
    int checked = 0;
    // Per event and output, the half-widths published with its forecasts.
    double[][][] published = new double[events.size()][6][];
    try (StepEngine engine = new StepEngine(horizons, 1, new MemoryRecentInputs(32), tape)) {
      engine.use(models.get(0));
      SeriesState st = null;
      for (int t = 0; t < events.size(); t++) {
        int before = tape.errors.size();
        int slot = engine.stepOne("s", events.get(t).copy(), st);
        st = engine.state(slot);
        for (double[] e : tape.errors.subList(before, tape.errors.size())) {
          int o = (int) e[0] * 3 + (int) e[1];
          refs[o].learn(e[2], published[t - HORIZONS[(int) e[1]]][o]);
        }
        for (int o = 0; o < 6; o++) {
          int at = engine.outputOffset(slot, o / 3, o % 3);
          published[t][o] = Arrays.copyOfRange(engine.outputHalfWidths(), at, at + 2);
        }
        for (int j = 0; j < 2; j++) {
          for (int k = 0; k < 3; k++) {
            int o = j * 3 + k;
            double[] hw = engine.outputHalfWidths();
            int at = engine.outputOffset(slot, j, k);
            if (t < HORIZONS[k]) {
              // Nothing of this horizon has been scored yet: no interval.
              assertThat(hw[at]).as("t %d output %d", t, o).isNaN();
              assertThat(engine.intervalsWarm(slot, j, k)).isFalse();
              continue;
            }
            // One error scored per event from the horizon on: the t - h + 1 errors so far.
            assertThat(refs[o].n).as("t %d output %d", t, o).isEqualTo(t - HORIZONS[k] + 1);
            for (int i = 0; i < 2; i++) {
              double expected = refs[o].m[i] * refs[o].scale;
              assertThat(hw[at + i])
                  .as("t %d output %d level %d", t, o, i)
                  .isCloseTo(expected, within(1e-5 * (1 + expected)));
            }
            assertThat(hw[at]).isLessThan(hw[at + 1]);
            assertThat(engine.intervalsWarm(slot, j, k)).isEqualTo(refs[o].n >= 50);
            checked++;
          }
        }
        // The first target at the next event is the record's top-level interval.
        for (int i = 0; i < 2 && t > 0; i++) {
          assertThat(engine.outputHalfWidths()[engine.outputOffset(slot, 0, 0) + i])
              .isEqualTo(engine.halfWidths()[slot * 2 + i]);
        }
        engine.clear();
      }
    }
    assertThat(checked).isGreaterThan(1500);
    // Widths differ by output: each learnt its own errors (the 24-hour temperature forecasts of
    // this untrained model are further off than the next hour's).
    assertThat(refs[2].scale).isNotCloseTo(refs[0].scale, within(0.01 * refs[0].scale));
    // Coverage is counted per target, horizon and level once that output is warm (50 errors).
    for (int j = 0; j < 2; j++) {
      for (int k = 0; k < 3; k++) {
        long scored = 300 - HORIZONS[k];
        for (int i = 0; i < 2; i++) {
          assertThat(tape.covered[(j * 3 + k) * 2 + i]).isEqualTo(scored - 50);
        }
      }
    }
    assertThat(tape.coveredFirst).isEqualTo(2 * (299 - 50));
  }

  /**
   * Steps {@code events} with model {@code first}, then from {@code swapAt} on with {@code then}.
   */
  private static final class SwapRun {
    final List<Boolean> warm = new ArrayList<>();
    final List<double[]> halfWidths = new ArrayList<>();
    final List<Boolean> warm24 = new ArrayList<>();
    final List<Integer> count24 = new ArrayList<>();
    final List<Float> scales = new ArrayList<>();
    final List<Double> errors = new ArrayList<>();
    long covered;
  }

  private SwapRun swap(TopologySpec spec, StepModel first, StepModel then, int swapAt, int n) {
    SwapRun run = new SwapRun();
    StepListener listener =
        new StepListener() {
          @Override
          public void covered(int level, boolean inside) {
            run.covered++;
          }

          @Override
          public void scored(double absError, double persistence) {
            run.errors.add(absError);
          }
        };
    boolean multi = spec == horizons;
    List<Event> events = events(n);
    try (StepEngine engine = new StepEngine(spec, 1, new MemoryRecentInputs(32), listener)) {
      engine.use(first);
      SeriesState st = null;
      for (int t = 0; t < n; t++) {
        if (t == swapAt) {
          engine.use(then);
        }
        Event e = multi ? events.get(t).copy() : weatherEvent(events.get(t));
        int slot = engine.stepOne("s", e, st);
        st = engine.state(slot);
        run.warm.add(engine.intervalsWarm(slot));
        run.halfWidths.add(new double[] {engine.halfWidths()[0], engine.halfWidths()[1]});
        run.scales.add(st.intervalScale());
        if (multi) {
          run.warm24.add(engine.intervalsWarm(slot, 0, 2));
          run.count24.add(st.furtherOutputs() > 1 ? st.outputCount(1) : 0);
        }
        engine.clear();
      }
    }
    return run;
  }

  @Test
  void shouldKeepTheCalibrationButNotCallItWarmUntilTheNewModelIsScoredSwapWarmUpTimes() {
    int swapAt = 200;
    SwapRun run = swap(weather, models.get(2), models.get(3), swapAt, 300);
    assertThat(run.warm.get(swapAt - 1)).isTrue();
    // The event that swaps: the old model's forecast is scored, the new one's interval is kept.
    assertThat(run.halfWidths.get(swapAt)[1]).isPositive();
    // The i-th event after it scores the new model's i-th forecast: warm again at 20 (the
    // default intervals.swapWarmUp).
    for (int i = 0; i < 40; i++) {
      assertThat(run.warm.get(swapAt + i)).as("event %d after the swap", i).isEqualTo(i >= 20);
    }
    // Its scale restarts its running mean with the old scale as one observation: the first
    // error of the new model weighs a half, the next a third.
    double old = run.scales.get(swapAt);
    double e1 = run.errors.get(swapAt);
    assertThat(run.scales.get(swapAt + 1)).isCloseTo((float) (old + (e1 - old) / 2), within(1e-6f));
    double s1 = run.scales.get(swapAt + 1);
    double e2 = run.errors.get(swapAt + 1);
    assertThat(run.scales.get(swapAt + 2)).isCloseTo((float) (s1 + (e2 - s1) / 3), within(1e-6f));
    // Coverage is not counted while the new model's intervals are not warm.
    SwapRun never = swap(weather, models.get(2), models.get(2), swapAt, 300);
    assertThat(never.warm.subList(50, 300)).containsOnly(true);
    assertThat(run.covered).isEqualTo(never.covered - 2 * 20);
  }

  @Test
  void shouldStartTheCalibrationOverUnderResetWhenANewModelTakesOver() {
    TopologySpec reset = withOnSwap(weather, IntervalsOnSwap.RESET);
    int swapAt = 200;
    SwapRun run = swap(reset, models.get(2), models.get(3), swapAt, 300);
    assertThat(run.halfWidths.get(swapAt - 1)[0]).isPositive();
    // No interval with the new model's first forecast: nothing of it has been scored.
    assertThat(run.halfWidths.get(swapAt)[0]).isNaN();
    assertThat(run.warm.get(swapAt)).isFalse();
    // Its first error is the scale, then intervals.warmUp (50) errors make it warm.
    assertThat(run.scales.get(swapAt + 1)).isEqualTo((float) (double) run.errors.get(swapAt));
    assertThat(run.halfWidths.get(swapAt + 1)[1])
        .isCloseTo(-Math.log(0.05) * run.scales.get(swapAt + 1), within(1e-5));
    for (int i = 1; i < 60; i++) {
      assertThat(run.warm.get(swapAt + i)).as("event %d after the swap", i).isEqualTo(i >= 50);
    }
  }

  @Test
  void shouldNotLearnTheOldModelsFurtherForecastsScoredAfterASwap() {
    int swapAt = 100;
    SwapRun run = swap(horizons, models.get(0), models.get(1), swapAt, 160);
    int before = run.count24.get(swapAt - 1);
    assertThat(before).isEqualTo(swapAt - 24);
    // The event that swaps scores the old model's forecast before the series meets the new
    // model (as for the next event); the old model's 24-hour forecasts that arrive in the 23
    // events after it are not learnt; the new model's first arrives 24 events on.
    assertThat(run.count24.get(swapAt)).isEqualTo(before + 1);
    for (int i = 1; i < 24; i++) {
      assertThat(run.count24.get(swapAt + i))
          .as("event %d after the swap", i)
          .isEqualTo(before + 1);
    }
    assertThat(run.count24.get(swapAt + 24)).isEqualTo(before + 2);
    // Warm again once 20 of the new model's 24-hour forecasts are scored: 43 events on.
    for (int i = 0; i < 60; i++) {
      assertThat(run.warm24.get(swapAt + i)).as("event %d after the swap", i).isEqualTo(i >= 43);
    }
  }

  private static TopologySpec withOnSwap(TopologySpec s, IntervalsOnSwap onSwap) {
    TopologySpec.Intervals i = s.intervals();
    return SpecFixtures.withIntervals(
        s,
        s.policies().anomaly(),
        new TopologySpec.Intervals(
            i.levels(), i.learningRate(), i.scaleEvents(), i.warmUp(), onSwap, i.swapWarmUp()));
  }
}
