package io.stepcast.engine;

import io.stepcast.state.SeriesState;

/**
 * Where a series' most recent model inputs are kept, so that a series made by an older model can be
 * warmed up on a new one (burn-in) by replaying them, with the scores a row may carry (the event's
 * actual values, which {@code lag} features read, and the forecasts made at it, which horizons are
 * scored with). The live path keeps them in a state store; offline replays keep them in memory
 * ({@link MemoryRecentInputs}) or keep none.
 */
public interface RecentInputs {
  /**
   * Copies the series' most recent inputs, oldest first, into {@code rows} (row-major, {@code
   * width} floats a row) and returns how many rows it wrote (at most {@code max}).
   */
  int read(String series, SeriesState state, float[] rows, int width, int max);

  /**
   * Remembers the input the series is stepped with now ({@code width} floats of {@code x} from
   * {@code offset}); {@code state.steps()} is the number of steps before this one.
   */
  void write(String series, SeriesState state, float[] x, int offset, int width);

  /**
   * Remembers the input the series is stepped with now with its scores: each target's actual value
   * and every forecast made at this event ({@code count} doubles of {@code scores} from {@code
   * scoresOffset}), for the event {@code h} later to score horizon {@code h} ({@link #scores}). By
   * default the scores are not kept.
   */
  default void write(
      String series,
      SeriesState state,
      float[] x,
      int offset,
      int width,
      double[] scores,
      int scoresOffset,
      int count) {
    write(series, state, x, offset, width);
  }

  /**
   * Copies the {@code count} scores kept with the row of step {@code step} (the series' {@code
   * step}-th event, from 0) into {@code out}; returns false when that row is gone or has none.
   */
  default boolean scores(String series, long step, double[] out, int count) {
    return false;
  }

  /** Keeps nothing: a swap resets the series. */
  RecentInputs NONE =
      new RecentInputs() {
        @Override
        public int read(String series, SeriesState state, float[] rows, int width, int max) {
          return 0;
        }

        @Override
        public void write(String series, SeriesState state, float[] x, int offset, int width) {}
      };
}
