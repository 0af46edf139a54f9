package io.stepcast.state;

import io.stepcast.features.FeaturePipeline;
import java.util.Arrays;

/**
 * What stepcast keeps per series in its state store, and what one event must write: the compact id
 * of the model that made the recurrent state ({@link ModelId}), counters, the last event's time and
 * target, the last forecast, the recurrent state tensors, the last value of each input field and
 * online accuracy sums, and the online calibration of its prediction intervals (a count, a running
 * error scale and one multiplier per level: see {@code engine.IntervalCalibration}). The recent
 * inputs a burn-in replays live elsewhere (one row per event, not a ring rewritten with every
 * event).
 *
 * <p>A state read from format v1 still carries that format's ring buffer of recent inputs until it
 * is written again ({@link #legacyRows}): the caller moves it to where recent inputs live now.
 *
 * <p>Mutable on purpose: the engine reads it, advances it and the processor writes it back once per
 * event. Stored with {@link SeriesStateSerde}.
 */
public final class SeriesState implements FeaturePipeline.MutableMemory {
  int modelId;
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
  // The next-event forecasts of a model's further targets (target.also), null for one target.
  double[] alsoForecasts;
  // Prediction interval calibration (format v3; empty when read from v1 or v2).
  int intervalCount;
  float intervalScale;
  short[] intervalLevels = NO_LEVELS;
  float[] intervalMultipliers = NO_MULTIPLIERS;
  // Events stepped since the current model took over from another (format v4; NEVER_SWAPPED when
  // the series never changed model, or was read from v1-v3).
  int eventsSinceSwap = NEVER_SWAPPED;
  // The calibration of each further output (format v4; target x horizon after the first, in the
  // model's order): a count and a scale per output, the multipliers output-major at the levels
  // of intervalLevels. Empty with one target at horizon 1.
  int[] outputCounts = NO_COUNTS;
  float[] outputScales = NO_MULTIPLIERS;
  float[] outputMultipliers = NO_MULTIPLIERS;
  // Format v1's ring buffer (oldest first), kept until the state is next written.
  float[] legacyRing;
  int legacyWidth;
  int legacyRows;

  private static final short[] NO_LEVELS = new short[0];
  private static final float[] NO_MULTIPLIERS = new float[0];
  private static final int[] NO_COUNTS = new int[0];

  /** {@link #eventsSinceSwap()} of a series that never changed model. */
  public static final int NEVER_SWAPPED = Integer.MAX_VALUE;

  SeriesState() {}

  /** A fresh series: zero recurrent state, nothing seen, made by the model {@code modelId}. */
  public static SeriesState fresh(int modelId, int[] stateSizes, int fieldCount) {
    SeriesState s = new SeriesState();
    s.modelId = modelId;
    s.states = new float[stateSizes.length][];
    for (int i = 0; i < stateSizes.length; i++) {
      s.states[i] = new float[stateSizes[i]];
    }
    s.lastFields = new float[fieldCount];
    Arrays.fill(s.lastFields, Float.NaN);
    return s;
  }

  /** A deep copy (the state API rolls forecasts forward on one without touching the live state). */
  public SeriesState copy() {
    SeriesState c = new SeriesState();
    c.modelId = modelId;
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
    c.alsoForecasts = alsoForecasts == null ? null : alsoForecasts.clone();
    c.intervalCount = intervalCount;
    c.intervalScale = intervalScale;
    c.intervalLevels = intervalLevels.clone();
    c.intervalMultipliers = intervalMultipliers.clone();
    c.eventsSinceSwap = eventsSinceSwap;
    c.outputCounts = outputCounts.clone();
    c.outputScales = outputScales.clone();
    c.outputMultipliers = outputMultipliers.clone();
    c.legacyRing = legacyRing == null ? null : legacyRing.clone();
    c.legacyWidth = legacyWidth;
    c.legacyRows = legacyRows;
    return c;
  }

  /** The compact id of the model that made the recurrent state. */
  public int modelId() {
    return modelId;
  }

  /** Whether the recurrent state was made by the model with this id. */
  public boolean madeBy(int id) {
    return modelId == id;
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

  /**
   * The forecast of further target {@code j} (target {@code j + 1} of the model) for the next event
   * made at the last event; NaN if none.
   */
  public double alsoForecast(int j) {
    return alsoForecasts == null || j >= alsoForecasts.length ? Double.NaN : alsoForecasts[j];
  }

  /** Records the next-event forecasts of the further targets ({@code n} values from offset). */
  public void alsoForecasts(double[] values, int offset, int n) {
    if (alsoForecasts == null || alsoForecasts.length != n) {
      alsoForecasts = new double[n];
    }
    System.arraycopy(values, offset, alsoForecasts, 0, n);
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

  /** Records a step by the model {@code id}: one more event, and the forecast it produced. */
  public void advance(int id, double forecast) {
    modelId = id;
    steps++;
    modelSteps++;
    lastForecast = forecast;
    if (eventsSinceSwap < NEVER_SWAPPED - 1) {
      eventsSinceSwap++;
    }
  }

  /**
   * Zeroes the recurrent state tensors (for a reset, or before a burn-in) and records the model.
   * The last forecast stays: the next event still scores it.
   */
  public void resetRecurrent(int id, int[] stateSizes) {
    if (id != modelId) {
      eventsSinceSwap = 0;
    }
    modelId = id;
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
  }

  /** Counts a burn-in step (a recent input replayed through a new model). */
  public void burnInStep() {
    modelSteps++;
  }

  /** Errors scored into the interval calibration (0: no interval yet). */
  public int intervalCount() {
    return intervalCount;
  }

  /** The running scale of the series' absolute errors that interval widths are multiples of. */
  public float intervalScale() {
    return intervalScale;
  }

  /** Records an error scored into the calibration and the scale after it. */
  public void intervalScored(float scale) {
    if (intervalCount < Integer.MAX_VALUE) {
      intervalCount++;
    }
    intervalScale = scale;
  }

  /** The interval levels the multipliers are for, in ten-thousandths (0.95 is 9500). */
  public short[] intervalLevels() {
    return intervalLevels;
  }

  /**
   * Per level, the multiple of {@link #intervalScale} that is the interval's half-width; updated in
   * place by the calibration.
   */
  public float[] intervalMultipliers() {
    return intervalMultipliers;
  }

  /**
   * Makes the interval section hold exactly {@code levels}: a level the state already has keeps its
   * multiplier, a new one starts at {@code initial}'s (after a change of the spec's levels); the
   * further outputs' multipliers follow the same levels.
   */
  public void alignIntervalLevels(short[] levels, float[] initial) {
    int further = outputCounts.length;
    float[] next = new float[levels.length];
    float[] nextOutputs = new float[further * levels.length];
    for (int i = 0; i < levels.length; i++) {
      next[i] = initial[i];
      for (int o = 0; o < further; o++) {
        nextOutputs[o * levels.length + i] = initial[i];
      }
      for (int j = 0; j < intervalLevels.length; j++) {
        if (intervalLevels[j] == levels[i]) {
          next[i] = intervalMultipliers[j];
          for (int o = 0; o < further; o++) {
            nextOutputs[o * levels.length + i] = outputMultipliers[o * intervalLevels.length + j];
          }
        }
      }
    }
    intervalLevels = levels.clone();
    intervalMultipliers = next;
    outputMultipliers = nextOutputs;
  }

  /**
   * Events the current model has stepped since it took over the series from another one (a swap:
   * burn-in or reset; the event that rebuilt the series counts, burn-in replays do not): the number
   * of forecasts it has made. {@link #NEVER_SWAPPED} when the series never changed model (or its
   * state was written before format v4).
   */
  public int eventsSinceSwap() {
    return eventsSinceSwap;
  }

  /** Further outputs calibrated (the model's outputs after the first; 0 for one output). */
  public int furtherOutputs() {
    return outputCounts.length;
  }

  /**
   * Makes the state calibrate {@code further} outputs after the first, at its interval levels: the
   * outputs it has are kept when the count is the same, else every one starts fresh at {@code
   * initial} (after a change of the pipeline's targets or horizons).
   */
  public void alignFurtherOutputs(int further, float[] initial) {
    if (outputCounts.length == further && outputMultipliers.length == further * initial.length) {
      return;
    }
    outputCounts = new int[further];
    outputScales = new float[further];
    outputMultipliers = new float[further * initial.length];
    for (int o = 0; o < further; o++) {
      System.arraycopy(initial, 0, outputMultipliers, o * initial.length, initial.length);
    }
  }

  /** Errors scored into further output {@code o}'s calibration (0: no interval yet). */
  public int outputCount(int o) {
    return outputCounts[o];
  }

  /** The running error scale of further output {@code o}. */
  public float outputScale(int o) {
    return outputScales[o];
  }

  /**
   * The multipliers of every further output, output-major ({@code [o * levels + level]}); updated
   * in place by the calibration.
   */
  public float[] outputMultipliers() {
    return outputMultipliers;
  }

  /** Records an error scored into further output {@code o}'s calibration and its scale after it. */
  public void outputScored(int o, float scale) {
    if (outputCounts[o] < Integer.MAX_VALUE) {
      outputCounts[o]++;
    }
    outputScales[o] = scale;
  }

  /**
   * Forgets every interval calibration (count, scale, multipliers back to {@code initial}), as for
   * a series never seen: {@code intervals.onSwap: reset} when a new model takes over.
   */
  public void resetIntervals(float[] initial) {
    intervalCount = 0;
    intervalScale = 0f;
    if (intervalMultipliers.length == initial.length) {
      System.arraycopy(initial, 0, intervalMultipliers, 0, initial.length);
    }
    Arrays.fill(outputCounts, 0);
    Arrays.fill(outputScales, 0f);
    if (outputMultipliers.length == outputCounts.length * initial.length) {
      for (int o = 0; o < outputCounts.length; o++) {
        System.arraycopy(initial, 0, outputMultipliers, o * initial.length, initial.length);
      }
    }
  }

  /**
   * Rows of format v1's ring buffer still carried (0 once written in format v2): the inputs of
   * steps {@code steps() - legacyRows() .. steps() - 1}.
   */
  public int legacyRows() {
    return legacyRows;
  }

  /** Width of a format v1 ring row. */
  public int legacyWidth() {
    return legacyWidth;
  }

  /** Copies the i-th oldest format v1 ring row into {@code out} from {@code offset}. */
  public void legacyRow(int i, float[] out, int offset) {
    System.arraycopy(legacyRing, i * legacyWidth, out, offset, legacyWidth);
  }

  /** Forgets format v1's ring buffer (once its rows live where recent inputs live now). */
  public void dropLegacyRows() {
    legacyRing = null;
    legacyRows = 0;
    legacyWidth = 0;
  }
}
