package io.stepcast.topology;

import io.stepcast.engine.StepListener;
import io.stepcast.features.Rejection;

/**
 * What the topology reports as it runs (every method a no-op unless overridden). Implementations
 * build their meters once and only record here: these calls are on the per-event path.
 */
public interface ForecastMetrics extends StepListener {
  /** A forecast was emitted. */
  default void forecast() {}

  /** An event went to the dead-letter topic. */
  default void deadLetter(Rejection reason) {}

  /** An event was skipped under the missing-value policy. */
  default void skipped(Rejection reason) {}

  /**
   * A stream task holds {@code count} series in its state store: reported when the task starts
   * (after its store is restored) and whenever it adds a series.
   */
  default void seriesHeld(String task, long count) {}

  /** A stream task closed (or moved to another instance): its series are no longer held here. */
  default void seriesReleased(String task) {}

  /** Records nothing. */
  ForecastMetrics NOOP = new ForecastMetrics() {};
}
