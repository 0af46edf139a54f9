package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The interval coverage meters: per level, and per target and horizon with several outputs. */
class IntervalMetricsTest {
  private static double count(
      SimpleMeterRegistry r, String target, String horizon, String level, String outcome) {
    return r.get("stepcast.interval.horizon.actuals")
        .tags("target", target, "horizon", horizon, "level", level, "outcome", outcome)
        .counter()
        .count();
  }

  @Test
  void shouldCountCoveragePerTargetHorizonAndLevelWithinTheSpecsBounds() {
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    PipelineMetrics m =
        new PipelineMetrics("p", List.of(0.8, 0.95), List.of("temp", "wind"), new int[] {1, 6});
    m.bindTo(r);
    m.coveredHorizon(1, 1, 0, true);
    m.coveredHorizon(1, 1, 0, true);
    m.coveredHorizon(1, 1, 0, false);
    m.coveredHorizon(0, 0, 1, false);
    // Out of range (a level or output this binder was not built with): ignored, never a throw.
    m.coveredHorizon(1, 1, 2, true);
    m.coveredHorizon(2, 0, 0, true);
    assertThat(count(r, "wind", "6", "0.8", "inside")).isEqualTo(2);
    assertThat(count(r, "wind", "6", "0.8", "outside")).isEqualTo(1);
    assertThat(count(r, "temp", "1", "0.95", "outside")).isEqualTo(1);
    assertThat(count(r, "temp", "6", "0.8", "inside")).isZero();
    assertThat(
            r.get("stepcast.interval.horizon.coverage")
                .tags("target", "wind", "horizon", "6", "level", "0.8")
                .gauge()
                .value())
        .isEqualTo(2.0 / 3);
    // Bounded by the spec: targets x horizons x levels x outcomes counters, one gauge per three.
    List<Meter> actuals = r.find("stepcast.interval.horizon.actuals").meters().stream().toList();
    assertThat(actuals).hasSize(2 * 2 * 2 * 2);
    assertThat(r.find("stepcast.interval.horizon.coverage").meters()).hasSize(2 * 2 * 2);
    // The nominal level beside each level's live coverage, for the dashboard.
    assertThat(r.get("stepcast.interval.level").tags("level", "0.95").gauge().value())
        .isEqualTo(0.95);
  }

  @Test
  void shouldRegisterNoHorizonMetersForOneTargetAtOneHorizon() {
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    new PipelineMetrics("p", List.of(0.8, 0.95), List.of("temp"), new int[] {1}).bindTo(r);
    assertThat(r.find("stepcast.interval.horizon.actuals").meters()).isEmpty();
    assertThat(r.find("stepcast.interval.actuals").meters()).hasSize(4);
  }
}
