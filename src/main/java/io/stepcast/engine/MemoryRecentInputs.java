package io.stepcast.engine;

import io.stepcast.state.SeriesState;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Recent events in memory, the last {@code capacity} per series: what offline replays (the
 * trainer's serving-parity replay, the promotion gate) give the engine so that {@code lag} features
 * see the same values as on the live path, whose rows live in the {@code series-recent} store.
 */
public final class MemoryRecentInputs implements RecentInputs {
  private final int capacity;
  private final Map<String, Ring> rings = new HashMap<>();

  /**
   * @param capacity rows kept per series (the spec's {@code model.ringBuffer})
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
  public void write(
      String series, SeriesState state, float[] x, int offset, int width, double target) {
    if (capacity == 0) {
      return;
    }
    Ring r = rings.computeIfAbsent(series, k -> new Ring(capacity, width));
    long step = state.steps();
    int s = slot(step);
    System.arraycopy(x, offset, r.x, s * width, width);
    r.targets[s] = target;
    r.steps[s] = step;
    r.count = step + 1;
  }

  @Override
  public double target(String series, SeriesState state, long step, int width) {
    Ring r = rings.get(series);
    if (r == null || capacity == 0 || step < 0) {
      return Double.NaN;
    }
    int s = slot(step);
    return r.steps[s] == step ? r.targets[s] : Double.NaN;
  }

  private int slot(long step) {
    return (int) (step % capacity);
  }

  private static final class Ring {
    final int width;
    final float[] x;
    final double[] targets;
    final long[] steps;
    long count;

    Ring(int capacity, int width) {
      this.width = width;
      this.x = new float[capacity * width];
      this.targets = new double[capacity];
      this.steps = new long[capacity];
      Arrays.fill(steps, -1);
    }
  }
}
