package io.stepcast.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.stepcast.config.SpecFixtures;
import io.stepcast.engine.IntervalCalibration.RollMethod;
import io.stepcast.state.SeriesState;
import org.junit.jupiter.api.Test;

/**
 * The intervals of the state API's multi-step forecast: a horizon's own calibration around the
 * model's own forecast for that horizon, the next-event interval widened with the square root of
 * the step around a rolled forecast.
 */
class RolledIntervalsTest {
  private static final double M80 = -Math.log(0.2);
  private static final double M95 = -Math.log(0.05);

  private final IntervalCalibration multi =
      new IntervalCalibration(SpecFixtures.weatherHorizons().intervals(), 2, new int[] {1, 6, 24});
  private final IntervalCalibration one =
      new IntervalCalibration(SpecFixtures.weather().intervals());

  /** A state whose outputs have these scales (target-major; 0: nothing scored yet). */
  private SeriesState state(IntervalCalibration c, float... scales) {
    SeriesState st = SeriesState.fresh(1, new int[] {4}, 2);
    c.align(st);
    for (int o = 0; o < scales.length; o++) {
      if (scales[o] > 0) {
        if (o == 0) {
          st.intervalScored(scales[o]);
        } else {
          st.outputScored(o - 1, scales[o]);
        }
      }
    }
    return st;
  }

  private static double[] rolled(
      IntervalCalibration c,
      SeriesState st,
      int target,
      int step,
      boolean direct,
      RollMethod expected) {
    double[] out = new double[2];
    assertThat(c.rolled(st, target, step, direct, out, 0)).as("step %d", step).isEqualTo(expected);
    return out;
  }

  /** The multipliers are floats in the state: equal to the level's quantile up to rounding. */
  private static void assertWidths(double[] actual, double w80, double w95) {
    assertThat(actual[0]).isCloseTo(w80, within(1e-6));
    assertThat(actual[1]).isCloseTo(w95, within(1e-6));
  }

  @Test
  void shouldUseTheHorizonsOwnCalibrationAroundTheModelsOwnForecastForIt() {
    SeriesState st = state(multi, 1f, 2f, 3f, 0.5f, 4f, 0f);
    assertWidths(rolled(multi, st, 0, 1, true, RollMethod.CALIBRATED), M80, M95);
    assertWidths(rolled(multi, st, 0, 6, true, RollMethod.CALIBRATED), 2 * M80, 2 * M95);
    assertWidths(rolled(multi, st, 0, 24, true, RollMethod.CALIBRATED), 3 * M80, 3 * M95);
    assertWidths(rolled(multi, st, 1, 6, true, RollMethod.CALIBRATED), 4 * M80, 4 * M95);
  }

  @Test
  void shouldWidenTheNextEventIntervalWithTheSquareRootOfTheStepAroundARolledForecast() {
    SeriesState st = state(multi, 1f, 2f, 3f, 0.5f, 4f, 0f);
    // A rolled value at a horizon step (its direct forecast was not kept) is not the one the
    // horizon's calibration is about: widened like any rolled step.
    assertWidths(
        rolled(multi, st, 0, 6, false, RollMethod.WIDENED), M80 * Math.sqrt(6), M95 * Math.sqrt(6));
    assertWidths(rolled(multi, st, 0, 9, false, RollMethod.WIDENED), M80 * 3, M95 * 3);
    // Wind at 24 has no interval of its own yet: its next-event one, widened.
    assertWidths(
        rolled(multi, st, 1, 24, true, RollMethod.WIDENED),
        0.5 * M80 * Math.sqrt(24),
        0.5 * M95 * Math.sqrt(24));
    SeriesState single = state(one, 0.5f);
    assertWidths(rolled(one, single, 0, 1, true, RollMethod.CALIBRATED), 0.5 * M80, 0.5 * M95);
    assertWidths(rolled(one, single, 0, 4, false, RollMethod.WIDENED), M80, M95);
    // Nothing scored yet: no interval at any step.
    assertThat(one.rolled(state(one), 0, 3, false, new double[2], 0)).isNull();
    assertThat(one.rolledWarm(state(one), 0, 3, false)).isFalse();
  }

  @Test
  void shouldCallARolledIntervalWarmOnlyWhenItIsCalibratedAndItsCalibrationIs() {
    SeriesState st = state(multi, 1f, 2f, 3f, 0f, 0f, 0f);
    for (int i = 0; i < 60; i++) {
      st.intervalScored(1f);
      st.outputScored(0, 2f);
    }
    // 61 errors at horizons 1 and 6, one at 24 (warm from intervals.warmUp = 50).
    assertThat(multi.rolledWarm(st, 0, 1, true)).isTrue();
    assertThat(multi.rolledWarm(st, 0, 6, true)).isTrue();
    assertThat(multi.rolledWarm(st, 0, 24, true)).isFalse();
    // Widened (rolled) intervals are never warm: nothing scored a rolled forecast's error.
    assertThat(multi.rolledWarm(st, 0, 24, false)).isFalse();
    assertThat(multi.rolledWarm(st, 0, 12, false)).isFalse();
    assertThat(multi.rolledWarm(st, 0, 6, false)).isFalse();
  }
}
