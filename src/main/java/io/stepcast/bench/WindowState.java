package io.stepcast.bench;

import io.stepcast.features.FeaturePipeline;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What the windowed design keeps per series: the last {@code W} feature rows (oldest first) and the
 * few scalars the features and the forecast record need (previous event time and target, last
 * forecast, step count, last input fields for carry-forward). One instance per stream task, read
 * from and written to the store's bytes on every event.
 *
 * <p>Bytes: {@code int rows, long steps, long lastTime, double lastTarget, double lastForecast},
 * the last fields as floats, then {@code rows * width} floats.
 */
final class WindowState implements FeaturePipeline.MutableMemory {
  private static final int HEADER = Integer.BYTES + 2 * Long.BYTES + 2 * Double.BYTES;

  private final int capacity;
  private final int width;
  private final float[] rows;
  private final float[] fields;
  private int count;
  private long steps;
  private long lastTime;
  private double lastTarget;
  private double lastForecast;

  WindowState(int capacity, int width, int fieldCount) {
    this.capacity = capacity;
    this.width = width;
    this.rows = new float[capacity * width];
    this.fields = new float[fieldCount];
    clear();
  }

  /** Forgets everything: a series never seen. */
  void clear() {
    count = 0;
    steps = 0;
    lastTime = Long.MIN_VALUE;
    lastTarget = Double.NaN;
    lastForecast = Double.NaN;
    Arrays.fill(fields, Float.NaN);
  }

  /** Loads a stored state. */
  void read(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    count = b.getInt();
    steps = b.getLong();
    lastTime = b.getLong();
    lastTarget = b.getDouble();
    lastForecast = b.getDouble();
    b.asFloatBuffer().get(fields).get(rows, 0, count * width);
  }

  /** The stored form of this state: a new array, as a serde gives. */
  byte[] write() {
    ByteBuffer b = ByteBuffer.allocate(size(count));
    b.putInt(count).putLong(steps).putLong(lastTime).putDouble(lastTarget).putDouble(lastForecast);
    b.asFloatBuffer().put(fields).put(rows, 0, count * width);
    return b.array();
  }

  /** Bytes of a state holding {@code n} rows. */
  int size(int n) {
    return HEADER + (fields.length + n * width) * Float.BYTES;
  }

  /** Appends a feature row, dropping the oldest when the window is full. */
  void push(float[] x) {
    if (count == capacity) {
      System.arraycopy(rows, width, rows, 0, (capacity - 1) * width);
      count--;
    }
    System.arraycopy(x, 0, rows, count * width, width);
    count++;
  }

  /** Records the forecast made at this event. */
  void advance(double forecast) {
    steps++;
    lastForecast = forecast;
  }

  float[] rows() {
    return rows;
  }

  int count() {
    return count;
  }

  boolean full() {
    return count == capacity;
  }

  long steps() {
    return steps;
  }

  double lastForecast() {
    return lastForecast;
  }

  @Override
  public boolean hasPrevious() {
    return lastTime != Long.MIN_VALUE;
  }

  @Override
  public long previousTime() {
    return lastTime;
  }

  @Override
  public double previousTarget() {
    return lastTarget;
  }

  @Override
  public float[] lastFields() {
    return fields;
  }

  @Override
  public void remember(long timeMillis, double target, double[] values) {
    lastTime = timeMillis;
    lastTarget = target;
    for (int i = 0; i < values.length && i < fields.length; i++) {
      fields[i] = (float) values[i];
    }
  }
}
