package io.stepcast.engine;

import io.stepcast.state.SeriesState;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Recent rows in memory, the last {@code capacity} per series with their scores: what offline
 * replays (the trainer's serving-parity replay, the promotion gate) give the engine so that {@code
 * lag} features and horizons see the same values as on the live path, whose rows live in the {@code
 * series-recent} store.
 */
public final class MemoryRecentInputs implements RecentInputs {
  private final int capacity;
  private final Map<String, Ring> rings = new HashMap<>();

  /**
   * @param capacity rows kept per series (the spec's {@code model.ringBuffer}, or more)
   */
  public MemoryRecentInputs(int capacity) {
    this.capacity = capacity;
  }

  @Override
  public int read(String series, SeriesState state, float[] rows, int width, int max) {
    Ring r = rings.get(series);
    if (r == null || r.width != width) {
      return 0;
    }
    int n = (int) Math.min(Math.min(max, capacity), r.count);
    for (int i = 0; i < n; i++) {
      long step = r.count - n + i;
      System.arraycopy(r.x, slot(step) * width, rows, i * width, width);
    }
    return n;
  }

  @Override
  public void write(String series, SeriesState state, float[] x, int offset, int width) {
    write(series, state, x, offset, width, null, 0, 0);
  }

  @Override
  public void write(
      String series,
      SeriesState state,
      float[] x,
      int offset,
      int width,
      double[] scores,
      int scoresOffset,
      int count) {
    if (capacity == 0) {
      return;
    }
    Ring r = rings.computeIfAbsent(series, k -> new Ring(capacity, width));
    long step = state.steps();
    int s = slot(step);
    System.arraycopy(x, offset, r.x, s * width, width);
    r.scores[s] =
        scores == null ? null : Arrays.copyOfRange(scores, scoresOffset, scoresOffset + count);
    r.steps[s] = step;
    r.count = step + 1;
  }

  @Override
  public boolean scores(String series, long step, double[] out, int count) {
    Ring r = rings.get(series);
    if (r == null || capacity == 0 || step < 0) {
      return false;
    }
    int s = slot(step);
    double[] kept = r.scores[s];
    if (r.steps[s] != step || kept == null || kept.length != count) {
      return false;
    }
    System.arraycopy(kept, 0, out, 0, count);
    return true;
  }

  private int slot(long step) {
    return (int) (step % capacity);
  }

  private static final class Ring {
    final int width;
    final float[] x;
    final double[][] scores;
    final long[] steps;
    long count;

    Ring(int capacity, int width) {
      this.width = width;
      this.x = new float[capacity * width];
      this.scores = new double[capacity][];
      this.steps = new long[capacity];
      Arrays.fill(steps, -1);
    }
  }
}
