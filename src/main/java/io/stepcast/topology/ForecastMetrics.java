package io.stepcast.topology;

import io.stepcast.features.Rejection;

/**
 * What the topology reports as it runs. Implementations build their meters once and only record
 * here: these calls are on the per-event path.
 */
public interface ForecastMetrics {
  /** A forecast was emitted. */
  void forecast();

  /** An event went to the dead-letter topic. */
  void deadLetter(Rejection reason);

  /** An event was skipped under the missing-value policy. */
  void skipped(Rejection reason);

  /** One ONNX Runtime call stepped {@code batch} series in {@code nanos}. */
  void step(long nanos, int batch);

  /** A forecast was scored against the actual value: its absolute error and persistence's. */
  void scored(double absError, double absErrorPersistence);

  /** A series was rebuilt for a new model by replaying its ring buffer. */
  void burnIn();

  /**
   * A stream task holds {@code count} series in its state store: reported when the task starts
   * (after its store is restored) and whenever it adds a series.
   */
  void seriesHeld(String task, long count);

  /** A stream task closed (or moved to another instance): its series are no longer held here. */
  void seriesReleased(String task);

  /** Records nothing. */
  ForecastMetrics NOOP =
      new ForecastMetrics() {
        @Override
        public void forecast() {}

        @Override
        public void deadLetter(Rejection reason) {}

        @Override
        public void skipped(Rejection reason) {}

        @Override
        public void step(long nanos, int batch) {}

        @Override
        public void scored(double absError, double absErrorPersistence) {}

        @Override
        public void burnIn() {}

        @Override
        public void seriesHeld(String task, long count) {}

        @Override
        public void seriesReleased(String task) {}
      };
}
