package io.stepcast.engine;

import io.stepcast.config.TopologySpec;
import io.stepcast.state.SeriesState;
import java.util.List;

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
 */
public final class IntervalCalibration {
  private final double[] levels;
  private final short[] ids;
  private final float[] initial;
  private final double learningRate;
  private final double scaleWeight;
  private final int warmUp;
  private final int widest;

  /** The calibration the spec's {@code intervals} section describes. */
  public IntervalCalibration(TopologySpec.Intervals spec) {
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

  /** Makes the state's interval section hold the spec's levels (keeping the multipliers it has). */
  public void align(SeriesState st) {
    short[] have = st.intervalLevels();
    if (have.length == ids.length) {
      boolean same = true;
      for (int i = 0; i < ids.length && same; i++) {
        same = have[i] == ids[i];
      }
      if (same) {
        return;
      }
    }
    st.alignIntervalLevels(ids, initial);
  }

  /** Whether the series has an interval: at least one error has been scored. */
  public boolean ready(SeriesState st) {
    return st.intervalCount() > 0 && levels.length > 0;
  }

  /** Whether the series' intervals are warm: at least {@code warmUp} errors were scored. */
  public boolean warm(SeriesState st) {
    return st.intervalCount() >= Math.max(1, warmUp);
  }

  /** The half-width of level {@code i}'s interval around the series' current forecast. */
  public double halfWidth(SeriesState st, int i) {
    return (double) st.intervalMultipliers()[i] * st.intervalScale();
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
    int n = st.intervalCount();
    double scale = st.intervalScale();
    if (n == 0 || levels.length == 0) {
      st.intervalScored((float) absError);
      return false;
    }
    boolean warmNow = warm(st);
    float[] m = st.intervalMultipliers();
    double widestHalf = m[widest] * scale;
    boolean outsideWidest = absError > widestHalf;
    for (int i = 0; i < levels.length; i++) {
      boolean outside = absError > m[i] * scale;
      double next = m[i] + learningRate * ((outside ? 1.0 : 0.0) - (1 - levels[i]));
      m[i] = (float) Math.max(0.0, next);
      if (warmNow) {
        listener.covered(i, !outside);
      }
    }
    double e = warmNow && widestHalf > 0 ? Math.min(absError, widestHalf) : absError;
    double weight = Math.max(scaleWeight, 1.0 / (n + 1.0));
    st.intervalScored((float) (scale + weight * (e - scale)));
    return outsideWidest;
  }
}
