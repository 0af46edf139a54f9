package io.stepcast.engine;

import io.stepcast.config.TopologySpec;
import io.stepcast.state.SeriesState;
import java.util.List;
import java.util.Locale;

/**
 * Prediction intervals calibrated online per series, from the series' own forecast errors: adaptive
 * conformal inference (Gibbs and Candès, 2021) in its quantile-tracking form (Angelopoulos, Candès
 * and Tibshirani, 2023), on errors normalised by a running scale.
 *
 * <p>Per series the state keeps a running scale {@code s} of its absolute errors (a mean over the
 * first {@code scaleEvents} errors, then an exponential average with weight {@code 1/scaleEvents})
 * and per level {@code L} a multiplier {@code m}: the interval around a forecast {@code f} is
 * {@code f ± m·s}. When the next actual arrives with error {@code e}, each level learns from
 * whether it was covered: {@code m += lr · (1{|e| > m·s} − (1 − L))}. This is online gradient
 * descent on the pinball loss of the normalised score {@code |e|/s}: whatever the errors do, the
 * share of actuals outside a level's interval over {@code T} events is within {@code (m_max +
 * lr)/(lr·T)} of {@code 1 − L}, with no assumption on the model or the data (Gibbs and Candès,
 * Proposition 4.1). The scale makes the step size unitless (the same settings fit prices in dollars
 * and temperatures in degrees) and lets the width follow volatility; the multipliers correct
 * whatever the scale gets wrong. Each multiplier starts at {@code −ln(1 − L)}, the level's quantile
 * of {@code |e|/s} when {@code |e|} is exponential (Laplace errors, the widest-tailed law for a
 * given mean absolute error).
 *
 * <p>Why not split-conformal over a buffer of recent errors: that needs the last W errors in the
 * state, rewritten with every event (W = 100 floats would more than double the 348-byte state);
 * this needs one count, one scale and one float per level.
 *
 * <p>An error larger than the widest interval enters the scale clipped to that interval's
 * half-width once the series is warm, so one absurd actual does not widen its intervals for the
 * next {@code scaleEvents} events; a lasting change of volatility still does, within a few events
 * (the multipliers grow with every miss).
 *
 * <p><b>Every output.</b> With several targets or horizons each output (target x horizon, the
 * model's order) has a calibration of its own (a count, a scale and one multiplier per level, in
 * the state from format v4), learnt from that output's own errors when the actual for its time
 * arrives, {@code horizon} events after the forecast. Each level learns whether the actual fell
 * inside the interval published with that forecast (for horizon 1 the state still holds it; for a
 * further horizon its half-widths are kept with the forecast in the recent row), so the guarantee
 * is about the bounds users saw, with the bound {@code (m_max + h·lr)/(lr·T)} of delayed feedback.
 * Testing against the calibration as it stands h events later instead lets coverage fall short
 * whenever errors come in clusters (the calibration has widened by the time the actuals arrive):
 * 74.6% at 80% for the 6-hour temperature forecasts of the weather sample.
 *
 * <p><b>A new model.</b> When a new model takes over a series, {@code intervals.onSwap} keeps the
 * calibration (the multipliers stay; the scale restarts its running mean with the old scale as one
 * observation, so it follows the new model's errors within a few events) or resets it; either way
 * the series' intervals count as warm again only after {@code intervals.swapWarmUp} of the new
 * model's forecasts have been scored per output, and forecasts the old model made that are scored
 * after the swap are not learnt from.
 *
 * <p><b>The state API's multi-step forecast</b>: {@link #rolled}.
 */
public final class IntervalCalibration {
  /** How the interval of a rolled step was made ({@link #rolled}). */
  public enum RollMethod {
    /**
     * The step is one of the spec's horizons and its forecast is the model's own forecast for it
     * made at the series' last event: that output's own calibration.
     */
    CALIBRATED,
    /**
     * A forecast rolled forward on the model's own forecasts: the target's next-event interval
     * widened with the square root of the step (a random walk's error growth).
     */
    WIDENED;

    /** The name in the state API's answer. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final double[] levels;
  private final short[] ids;
  private final float[] initial;
  private final double learningRate;
  private final double scaleWeight;
  private final int warmUp;
  private final int widest;
  private final int targets;
  private final int[] horizons;
  private final int outputs;
  private final boolean resetOnSwap;
  private final int swapWarmUp;

  /** The calibration the spec's {@code intervals} section describes, for one output. */
  public IntervalCalibration(TopologySpec.Intervals spec) {
    this(spec, 1, new int[] {1});
  }

  /**
   * The calibration the spec's {@code intervals} section describes, for {@code targets} targets at
   * {@code horizons} (events ahead, the first 1): one calibration per output, target-major.
   */
  public IntervalCalibration(TopologySpec.Intervals spec, int targets, int[] horizons) {
    List<Double> l = spec.levels();
    this.levels = new double[l.size()];
    this.ids = new short[l.size()];
    this.initial = new float[l.size()];
    int w = -1;
    for (int i = 0; i < levels.length; i++) {
      levels[i] = l.get(i);
      ids[i] = (short) Math.round(levels[i] * 10_000);
      initial[i] = (float) -Math.log(1 - levels[i]);
      if (w < 0 || levels[i] > levels[w]) {
        w = i;
      }
    }
    this.widest = w;
    this.learningRate = spec.learningRate();
    this.scaleWeight = 1.0 / spec.scaleEvents();
    this.warmUp = spec.warmUp();
    this.targets = targets;
    this.horizons = horizons.clone();
    this.outputs = targets * horizons.length;
    this.resetOnSwap = spec.onSwap() == TopologySpec.IntervalsOnSwap.RESET;
    this.swapWarmUp = spec.swapWarmUp();
  }

  /** Number of levels (0: no intervals). */
  public int size() {
    return levels.length;
  }

  /** The nominal coverage of level {@code i}, in the spec's order. */
  public double level(int i) {
    return levels[i];
  }

  /** The index of the widest level, or -1 without levels. */
  public int widest() {
    return widest;
  }

  /** Number of outputs calibrated (targets x horizons). */
  public int outputs() {
    return outputs;
  }

  /**
   * Makes the state's interval sections hold the spec's levels (keeping the multipliers it has) and
   * one calibration per further output.
   */
  public void align(SeriesState st) {
    short[] have = st.intervalLevels();
    boolean same = have.length == ids.length;
    for (int i = 0; i < ids.length && same; i++) {
      same = have[i] == ids[i];
    }
    if (!same) {
      st.alignIntervalLevels(ids, initial);
    }
    st.alignFurtherOutputs(levels.length == 0 ? 0 : outputs - 1, initial);
  }

  /**
   * Called when a new model has taken over the series (after its state was rebuilt): forgets the
   * calibration under {@code intervals.onSwap: reset}; keeps it otherwise.
   */
  void swapped(SeriesState st) {
    if (resetOnSwap && levels.length > 0) {
      align(st);
      st.resetIntervals(initial);
    }
  }

  /** Whether the series has an interval: at least one error has been scored. */
  public boolean ready(SeriesState st) {
    return ready(st, 0);
  }

  /** Whether output {@code o} of the series has an interval. */
  public boolean ready(SeriesState st, int o) {
    return levels.length > 0 && count(st, o) > 0;
  }

  /**
   * Whether the intervals published with the series' last forecasts (a stored state) are warm: at
   * least {@code warmUp} errors scored, and {@code swapWarmUp} of the current model's forecasts
   * scored when a swap made it take over.
   */
  public boolean warm(SeriesState st) {
    return warm(st, 0, false);
  }

  /**
   * Whether output {@code o}'s interval is warm. {@code pending}: the state has scored the current
   * event but not stepped it yet (the engine, between scoring and stepping); false for a stored
   * state.
   */
  public boolean warm(SeriesState st, int o, boolean pending) {
    return count(st, o) >= Math.max(1, warmUp)
        && newModelScored(st, horizon(o), pending ? 1 : 0) >= swapWarmUp;
  }

  /** The half-width of level {@code i}'s interval around the series' current forecast. */
  public double halfWidth(SeriesState st, int i) {
    return (double) st.intervalMultipliers()[i] * st.intervalScale();
  }

  /** The half-width of level {@code i}'s interval around output {@code o}'s current forecast. */
  public double halfWidth(SeriesState st, int o, int i) {
    if (o == 0) {
      return halfWidth(st, i);
    }
    return (double) st.outputMultipliers()[(o - 1) * levels.length + i] * st.outputScale(o - 1);
  }

  /** The horizon (events ahead) of output {@code o}. */
  int horizon(int o) {
    return horizons[o % horizons.length];
  }

  private static int count(SeriesState st, int o) {
    if (o == 0) {
      return st.intervalCount();
    }
    return o - 1 < st.furtherOutputs() ? st.outputCount(o - 1) : 0;
  }

  /**
   * How many of the current model's forecasts at {@code horizon} have been scored (excluding the
   * current event's unless {@code pending} is 1); very large when the series never swapped.
   */
  private static long newModelScored(SeriesState st, int horizon, int pending) {
    return (long) st.eventsSinceSwap() - horizon + pending;
  }

  /**
   * Scores the absolute error of the forecast the state made at its last event against the
   * intervals it published with it, and learns from it: each level's multiplier, then the scale.
   * Tells the listener each level's outcome while the series is warm.
   *
   * @return whether the error fell outside the widest interval (false before there is one)
   */
  boolean score(SeriesState st, double absError, StepListener listener) {
    align(st);
    return learn(st, 0, absError, listener);
  }

  /**
   * Scores output {@code o}'s forecast made {@code horizon(o)} events ago against the actual that
   * just arrived (its absolute error), unless the model that made it has been replaced since, and
   * learns from it. Tells the listener each level's outcome (per target and horizon) while the
   * output is warm.
   */
  void scoreOutput(
      SeriesState st,
      int o,
      double absError,
      double[] published,
      int offset,
      StepListener listener) {
    if (levels.length == 0 || o == 0) {
      return;
    }
    align(st);
    if (newModelScored(st, horizon(o), 0) < 0) {
      // Made by the model the series had before a swap: not about the one serving now.
      return;
    }
    boolean has = published != null && !Double.isNaN(published[offset]);
    learn(st, o, absError, has ? published : null, offset, listener);
  }

  private boolean learn(SeriesState st, int o, double absError, StepListener listener) {
    return learn(st, o, absError, null, 0, listener);
  }

  /**
   * Learns from one scored error of output {@code o}: each level's miss against the half-width
   * published with the forecast ({@code published} from {@code at}; null: the calibration as it
   * stands, which for horizon 1 is what was published), then the scale.
   */
  private boolean learn(
      SeriesState st, int o, double absError, double[] published, int at, StepListener listener) {
    int n = count(st, o);
    double scale = o == 0 ? st.intervalScale() : st.outputScale(o - 1);
    if (n == 0 || levels.length == 0) {
      scored(st, o, (float) absError);
      return false;
    }
    int h = horizon(o);
    boolean warmNow = warm(st, o, false);
    float[] m = o == 0 ? st.intervalMultipliers() : st.outputMultipliers();
    int off = o == 0 ? 0 : (o - 1) * levels.length;
    double widestHalf = published != null ? published[at + widest] : m[off + widest] * scale;
    boolean outsideWidest = absError > widestHalf;
    for (int i = 0; i < levels.length; i++) {
      boolean outside = absError > (published != null ? published[at + i] : m[off + i] * scale);
      double next = m[off + i] + learningRate * ((outside ? 1.0 : 0.0) - (1 - levels[i]));
      m[off + i] = (float) Math.max(0.0, next);
      if (warmNow) {
        if (o == 0) {
          listener.covered(i, !outside);
        }
        if (outputs > 1) {
          listener.coveredHorizon(o / horizons.length, o % horizons.length, i, !outside);
        }
      }
    }
    double e = warmNow && widestHalf > 0 ? Math.min(absError, widestHalf) : absError;
    // After a swap the running mean restarts, with the old scale as one observation.
    long fresh = newModelScored(st, h, 0);
    long effective = Math.min(n, fresh + 1);
    double weight = Math.max(scaleWeight, 1.0 / (effective + 1.0));
    scored(st, o, (float) (scale + weight * (e - scale)));
    return outsideWidest;
  }

  private static void scored(SeriesState st, int o, float scale) {
    if (o == 0) {
      st.intervalScored(scale);
    } else {
      st.outputScored(o - 1, scale);
    }
  }

  /**
   * The half-widths of the intervals around the state API's forecast of target {@code target}
   * {@code step} events ahead of a stored state, one per level into {@code out} from {@code
   * offset}: the calibration of the output at that horizon when the forecast is the model's own
   * ({@code direct}: the step is one of the pipeline's horizons), else the target's next-event
   * interval widened as {@code sqrt(step)} (see {@link RollMethod}).
   *
   * @return how they were made, or null when the target has no interval yet
   */
  public RollMethod rolled(
      SeriesState st, int target, int step, boolean direct, double[] out, int offset) {
    int o = direct ? output(target, step) : -1;
    if (o >= 0 && ready(st, o)) {
      for (int i = 0; i < levels.length; i++) {
        out[offset + i] = halfWidth(st, o, i);
      }
      return RollMethod.CALIBRATED;
    }
    int next = target * horizons.length;
    if (!ready(st, next)) {
      return null;
    }
    double growth = Math.sqrt(step);
    for (int i = 0; i < levels.length; i++) {
      out[offset + i] = halfWidth(st, next, i) * growth;
    }
    return RollMethod.WIDENED;
  }

  /**
   * Whether the intervals {@link #rolled} makes are warm: only {@link RollMethod#CALIBRATED} ones
   * can be, when their output's calibration is. A {@link RollMethod#WIDENED} interval never is: no
   * error of a rolled forecast is ever scored, so nothing calibrated it, and on held-out data its
   * coverage ranged from above nominal (one-output weather) to a tenth of it (the steps between the
   * horizons of a several-horizon model).
   */
  public boolean rolledWarm(SeriesState st, int target, int step, boolean direct) {
    int o = direct ? output(target, step) : -1;
    return o >= 0 && ready(st, o) && warm(st, o, false);
  }

  /** The output of target {@code target} at {@code horizon} events ahead, -1 when none. */
  private int output(int target, int horizon) {
    for (int k = 0; k < horizons.length; k++) {
      if (horizons[k] == horizon) {
        return target * horizons.length + k;
      }
    }
    return -1;
  }
}
