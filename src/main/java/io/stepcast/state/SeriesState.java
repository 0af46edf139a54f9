package io.stepcast.state;

import io.stepcast.features.FeaturePipeline;
import java.util.Arrays;

/**
 * What stepcast keeps per series in its state store: the model version that made the recurrent
 * state, counters, the last event's time and target, the last forecast, the recurrent state
 * tensors, the last value of each input field, online accuracy sums, and a ring buffer of the most
 * recent feature vectors (replayed through a new model after a swap: burn-in).
 *
 * <p>Mutable on purpose: the processor reads it, advances it and writes it back once per event.
 * Stored with {@link SeriesStateSerde}.
 */
public final class SeriesState implements FeaturePipeline.MutableMemory {
  String modelVersion;
  long steps;
  long modelSteps;
  long lastEventTime;
  long lastIntervalMs;
  double lastTarget = Double.NaN;
  double lastForecast = Double.NaN;
  float[][] states;
  float[] lastFields;
  long errorCount;
  double sumAbsError;
  double sumAbsErrorPersistence;
  float[] ring;
  int ringWidth;
  int ringCapacity;
  int ringSize;
  int ringHead;

  SeriesState() {}

  /** A fresh series: zero recurrent state, nothing seen. */
  public static SeriesState fresh(
      String modelVersion, int[] stateSizes, int fieldCount, int ringCapacity, int ringWidth) {
    SeriesState s = new SeriesState();
    s.modelVersion = modelVersion;
    s.states = new float[stateSizes.length][];
    for (int i = 0; i < stateSizes.length; i++) {
      s.states[i] = new float[stateSizes[i]];
    }
    s.lastFields = new float[fieldCount];
    Arrays.fill(s.lastFields, Float.NaN);
    s.ringCapacity = ringCapacity;
    s.ringWidth = ringWidth;
    s.ring = new float[ringCapacity * ringWidth];
    return s;
  }

  public String modelVersion() {
    return modelVersion;
  }

  /** Whether the recurrent state was made by the model {@code version}. */
  public boolean madeBy(String version) {
    return version.equals(modelVersion);
  }

  /** A deep copy (the state API rolls forecasts forward on one without touching the live state). */
  public SeriesState copy() {
    SeriesState c = new SeriesState();
    c.modelVersion = modelVersion;
    c.steps = steps;
    c.modelSteps = modelSteps;
    c.lastEventTime = lastEventTime;
    c.lastIntervalMs = lastIntervalMs;
    c.lastTarget = lastTarget;
    c.lastForecast = lastForecast;
    c.states = new float[states.length][];
    for (int i = 0; i < states.length; i++) {
      c.states[i] = states[i].clone();
    }
    c.lastFields = lastFields.clone();
    c.errorCount = errorCount;
    c.sumAbsError = sumAbsError;
    c.sumAbsErrorPersistence = sumAbsErrorPersistence;
    c.ring = ring.clone();
    c.ringWidth = ringWidth;
    c.ringCapacity = ringCapacity;
    c.ringSize = ringSize;
    c.ringHead = ringHead;
    return c;
  }

  /**
   * Steps the recurrent state has absorbed under the current model (burn-in replays included): the
   * state is warm once this reaches the model's burn-in length.
   */
  public long modelSteps() {
    return modelSteps;
  }

  /** Events this series has been stepped through. */
  public long steps() {
    return steps;
  }

  /** Time between the series' last two events, in ms (0 before the second): the forecast step. */
  public long lastIntervalMs() {
    return lastIntervalMs;
  }

  public long lastEventTime() {
    return lastEventTime;
  }

  public double lastTarget() {
    return lastTarget;
  }

  /** Forecast of the next target made at the last event; NaN if none. */
  public double lastForecast() {
    return lastForecast;
  }

  /** The recurrent state tensors ({@code h}, {@code c}), updated in place by a step. */
  public float[][] states() {
    return states;
  }

  /** Number of forecasts scored against the next event's actual value. */
  public long errorCount() {
    return errorCount;
  }

  /** Mean absolute error of this series' forecasts so far; NaN before the first is scored. */
  public double mae() {
    return errorCount == 0 ? Double.NaN : sumAbsError / errorCount;
  }

  /** Mean absolute error of the persistence forecast (next = last) over the same events. */
  public double persistenceMae() {
    return errorCount == 0 ? Double.NaN : sumAbsErrorPersistence / errorCount;
  }

  @Override
  public boolean hasPrevious() {
    return steps > 0;
  }

  @Override
  public long previousTime() {
    return lastEventTime;
  }

  @Override
  public double previousTarget() {
    return lastTarget;
  }

  @Override
  public float[] lastFields() {
    return lastFields;
  }

  @Override
  public void remember(long timeMillis, double target, double[] fields) {
    if (steps > 0) {
      lastIntervalMs = timeMillis - lastEventTime;
    }
    lastEventTime = timeMillis;
    lastTarget = target;
    for (int i = 0; i < fields.length && i < lastFields.length; i++) {
      lastFields[i] = (float) fields[i];
    }
  }

  /** Scores the last forecast against the actual value that just arrived. */
  public void score(double actual) {
    if (!Double.isNaN(lastForecast) && !Double.isNaN(lastTarget)) {
      errorCount++;
      sumAbsError += Math.abs(actual - lastForecast);
      sumAbsErrorPersistence += Math.abs(actual - lastTarget);
    }
  }

  /** Records a step: one more event, and the forecast it produced. */
  public void advance(String version, double forecast) {
    modelVersion = version;
    steps++;
    modelSteps++;
    lastForecast = forecast;
  }

  /** Appends a feature vector to the ring buffer, dropping the oldest when full. */
  public void push(float[] x) {
    push(x, 0);
  }

  /** Appends the feature vector at {@code x[offset..]} to the ring buffer. */
  public void push(float[] x, int offset) {
    if (ringCapacity == 0) {
      return;
    }
    int w = Math.min(ringWidth, x.length - offset);
    System.arraycopy(x, offset, ring, ringHead * ringWidth, w);
    ringHead = (ringHead + 1) % ringCapacity;
    if (ringSize < ringCapacity) {
      ringSize++;
    }
  }

  /** Number of feature vectors in the ring buffer. */
  public int ringSize() {
    return ringSize;
  }

  /** Width of each ring-buffer row. */
  public int ringWidth() {
    return ringWidth;
  }

  /** Copies the i-th oldest ring-buffer row into {@code out}. */
  public void ringRow(int i, float[] out) {
    int start = (ringHead - ringSize + ringCapacity) % ringCapacity;
    int row = (start + i) % ringCapacity;
    System.arraycopy(ring, row * ringWidth, out, 0, ringWidth);
  }

  /**
   * Zeroes the recurrent state tensors (for a reset, or before a burn-in) and records the model.
   */
  public void resetRecurrent(String version, int[] stateSizes) {
    modelVersion = version;
    modelSteps = 0;
    if (states.length != stateSizes.length) {
      states = new float[stateSizes.length][];
    }
    for (int i = 0; i < stateSizes.length; i++) {
      if (states[i] == null || states[i].length != stateSizes[i]) {
        states[i] = new float[stateSizes[i]];
      } else {
        Arrays.fill(states[i], 0f);
      }
    }
    lastForecast = Double.NaN;
  }

  /** Counts a burn-in step (a ring-buffer row replayed through a new model). */
  public void burnInStep() {
    modelSteps++;
  }
}
