package io.stepcast.engine;

import io.stepcast.state.SeriesState;

/**
 * Where a series' most recent events are kept, one row per event: the model input it was stepped
 * with (so that a series made by an older model can be warmed up on a new one, burn-in) and its raw
 * target (so that a {@code lag} feature reads the value that many events back with one lookup). The
 * live path keeps them in a state store; offline replays keep them in memory ({@link
 * MemoryRecentInputs}), or keep none.
 */
public interface RecentInputs {
  /**
   * Copies the series' most recent inputs, oldest first, into {@code rows} (row-major, {@code
   * width} floats a row) and returns how many rows it wrote (at most {@code max}).
   */
  int read(String series, SeriesState state, float[] rows, int width, int max);

  /**
   * Remembers the event the series is stepped with now: its input ({@code width} floats of {@code
   * x} from {@code offset}) and its raw {@code target}; {@code state.steps()} is the number of
   * steps before this one.
   */
  void write(String series, SeriesState state, float[] x, int offset, int width, double target);

  /**
   * The raw target of the series' event number {@code step} (0 = its first; {@code state.steps()}
   * is the event being staged now), or NaN when it is not kept (too old, never written, or written
   * by a build that kept no targets).
   */
  double target(String series, SeriesState state, long step, int width);

  /** Keeps nothing: a swap resets the series and every lag is unknown. */
  RecentInputs NONE =
      new RecentInputs() {
        @Override
        public int read(String series, SeriesState state, float[] rows, int width, int max) {
          return 0;
        }

        @Override
        public void write(
            String series, SeriesState state, float[] x, int offset, int width, double target) {}

        @Override
        public double target(String series, SeriesState state, long step, int width) {
          return Double.NaN;
        }
      };
}
