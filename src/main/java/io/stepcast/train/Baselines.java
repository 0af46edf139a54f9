package io.stepcast.train;

import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.SeriesReplay;
import java.util.List;

/**
 * The simple forecasters a trained model must beat, computed on the same validation events: the
 * persistence forecast (next = last), the seasonal-naive forecast (next = the value one season
 * earlier) and a linear autoregressive model AR(p) fitted by least squares, its order set in the
 * spec or chosen by {@link #chooseArOrder AIC} on the training parts.
 *
 * <p>All forecasts are in the target's own units. Row {@code t} of a series forecasts the target of
 * event {@code t + 1} from what is known at event {@code t}, exactly as the model does.
 */
public final class Baselines {

  /** The highest order {@link #chooseArOrder} considers (raised to the season plus one). */
  public static final int MAX_AIC_ORDER = 30;

  /** Ridge term that keeps the normal equations solvable on a constant series. */
  private static final double RIDGE = 1e-8;

  private Baselines() {}

  /** Persistence: the forecast for event {@code t + 1} is the target at {@code t}. */
  public static double persistence(SeriesReplay.Rows rows, int t) {
    return rows.targets()[t];
  }

  /**
   * Seasonal naive: the forecast for event {@code t + 1} is the target at {@code t + 1 - season};
   * NaN when the series is not that long yet.
   */
  public static double seasonalNaive(SeriesReplay.Rows rows, int t, int season) {
    return seasonalNaive(rows.targets(), t, 1, season);
  }

  /**
   * Seasonal naive at any horizon: the forecast made at {@code t} for {@code values[t + horizon]}
   * is the latest value of the same phase of the season known at {@code t}, {@code values[t +
   * horizon - season * ceil(horizon / season)]}; NaN when the series is not that long yet.
   */
  public static double seasonalNaive(double[] values, int t, int horizon, int season) {
    int seasons = (horizon + season - 1) / season;
    int i = t + horizon - season * seasons;
    return i >= 0 ? values[i] : Double.NaN;
  }

  /**
   * The AR order with the lowest Akaike information criterion on the training parts: for each
   * {@code p} from 1 to {@code maxOrder}, every series gets its own AR(p), fitted on the same rows
   * {@code [maxOrder, trainEnd)}, and the criterion summed over series is {@code sum_s (m_s
   * ln(RSS_s / m_s) + 2 (p + 1))}, {@code m_s} the rows of series {@code s}. Series whose training
   * part is too short for {@code maxOrder} lags do not vote.
   *
   * @return the chosen order, or 0 when no series is long enough
   */
  public static int chooseArOrder(List<SeriesReplay.Rows> series, int[] trainEnd, int maxOrder) {
    int best = 0;
    double bestAic = Double.POSITIVE_INFINITY;
    for (int p = 1; p <= maxOrder; p++) {
      double aic = 0;
      int voters = 0;
      for (int i = 0; i < series.size(); i++) {
        int m = trainEnd[i] - maxOrder;
        if (m < 2 * (maxOrder + 1)) {
          continue;
        }
        LinearAr fit = LinearAr.fit(series.get(i), maxOrder, trainEnd[i], p);
        double rss = Math.max(fit.residualSquares(series.get(i), maxOrder, trainEnd[i]), 1e-300);
        aic += m * Math.log(rss / m) + 2.0 * (p + 1);
        voters++;
      }
      if (voters > 0 && aic < bestAic) {
        bestAic = aic;
        best = p;
      }
    }
    return best;
  }

  /**
   * The largest order {@link #chooseArOrder} should try: {@link #MAX_AIC_ORDER} (or one past the
   * season), but no more than a tenth of the shortest training part, and at least 1.
   */
  public static int maxArOrder(int[] trainEnd, Integer season) {
    int cap = season == null ? MAX_AIC_ORDER : Math.max(MAX_AIC_ORDER, season + 1);
    int shortest = Integer.MAX_VALUE;
    for (int n : trainEnd) {
      shortest = Math.min(shortest, n);
    }
    return Math.max(1, Math.min(cap, shortest / 10));
  }

  /**
   * A linear autoregressive model of the transformed target: the next transformed target (the
   * label) as an intercept plus a weighted sum of the last p transformed targets (column 0 of the
   * feature rows), fitted by least squares on one series' training rows.
   */
  public static final class LinearAr {
    private final double[] coef;
    private final int lags;

    private LinearAr(double[] coef, int lags) {
      this.coef = coef;
      this.lags = lags;
    }

    /**
     * Fits on rows {@code [lags, trainEnd)} of a series (the first row has no real previous target
     * under a difference or log-return transform, so it is left out).
     *
     * @throws IllegalArgumentException when the training part has fewer rows than coefficients
     */
    public static LinearAr fit(SeriesReplay.Rows rows, int trainEnd, int lags) {
      return fit(rows, lags, trainEnd, lags);
    }

    /**
     * Fits on rows {@code [from, trainEnd)} ({@code from >= lags}): every order compared by AIC is
     * fitted on the same rows, so their residuals are comparable.
     *
     * @throws IllegalArgumentException when the rows are fewer than the coefficients
     */
    public static LinearAr fit(SeriesReplay.Rows rows, int from, int trainEnd, int lags) {
      int p = lags + 1;
      if (from < lags) {
        throw new IllegalArgumentException("rows before lag " + lags + " have no full history");
      }
      if (trainEnd - from < p) {
        throw new IllegalArgumentException(
            "a linear AR("
                + lags
                + ") needs at least "
                + (p + lags)
                + " training rows, got "
                + trainEnd);
      }
      return new LinearAr(
          leastSquares(
              from,
              trainEnd,
              p,
              (t, v) -> {
                regressors(rows, t, lags, v);
                return rows.y()[t][0];
              }),
          lags);
    }

    /** The residual sum of squares over rows {@code [from, to)}, on the transformed target. */
    double residualSquares(SeriesReplay.Rows rows, int from, int to) {
      double[] v = new double[lags + 1];
      double sum = 0;
      for (int t = from; t < to; t++) {
        regressors(rows, t, lags, v);
        double e = rows.y()[t][0] - dot(coef, v);
        sum += e * e;
      }
      return sum;
    }

    /** The order p. */
    public int order() {
      return lags;
    }

    /** The forecast for event {@code t + 1} in the target's units ({@code t >= lags - 1}). */
    public double forecast(SeriesReplay.Rows rows, int t, FeaturePipeline pipeline) {
      double[] v = new double[lags + 1];
      regressors(rows, t, lags, v);
      return pipeline.forecast(dot(coef, v), rows.targets()[t]);
    }

    /** The fitted coefficients: intercept, then lag 0 (the current value), lag 1, ... */
    public double[] coefficients() {
      return coef.clone();
    }

    private static void regressors(SeriesReplay.Rows rows, int t, int lags, double[] v) {
      v[0] = 1;
      for (int k = 0; k < lags; k++) {
        v[k + 1] = rows.x()[t - k][0];
      }
    }
  }

  /**
   * An autoregression of the target's own levels with an intercept, what a statistician fits first:
   * {@code y[t+1] = c + a_0 y[t] + a_1 y[t-1] + ... + a_(p-1) y[t-p+1]}, by least squares on one
   * series' values {@code [0, end)} only. Unlike {@link LinearAr} it ignores the spec's target
   * transform (a random walk is the fit {@code c = 0, a_0 = 1}), and it forecasts any target and
   * any horizon: further steps feed its own forecasts back.
   */
  public static final class LevelAr {
    private final double[] coef;
    private final int lags;
    private final double mean;

    private LevelAr(double[] coef, int lags, double mean) {
      this.coef = coef;
      this.lags = lags;
      this.mean = mean;
    }

    /**
     * Fits on {@code values[0, end)}: the rows whose origin {@code t} has {@code lags} values up to
     * it and whose next value is before {@code end}.
     *
     * @throws IllegalArgumentException when there are fewer rows than coefficients
     */
    public static LevelAr fit(double[] values, int end, int lags) {
      if (lags < 1) {
        throw new IllegalArgumentException("an AR order must be at least 1, got " + lags);
      }
      int p = lags + 1;
      int from = lags - 1;
      int to = Math.min(end, values.length) - 1;
      if (to - from < p) {
        throw new IllegalArgumentException(
            "an AR("
                + lags
                + ") of the levels needs at least "
                + (p + lags)
                + " values, got "
                + Math.min(end, values.length));
      }
      // Centred on the fitted part's mean: the same model (the intercept absorbs it), but the
      // normal
      // equations of price levels near 1,000 stay well conditioned.
      double sum = 0;
      for (int t = 0; t <= to; t++) {
        sum += values[t];
      }
      double mean = sum / (to + 1);
      return new LevelAr(
          leastSquares(
              from,
              to,
              p,
              (t, v) -> {
                levelRegressors(values, t, lags, mean, v);
                return values[t + 1] - mean;
              }),
          lags,
          mean);
    }

    /** The order p. */
    public int order() {
      return lags;
    }

    /**
     * The fitted coefficients on the raw levels: intercept, then lag 0 (the current value), lag 1,
     * ...
     */
    public double[] coefficients() {
      double[] c = coef.clone();
      double sumLags = 0;
      for (int k = 1; k < c.length; k++) {
        sumLags += c[k];
      }
      c[0] = coef[0] + mean * (1 - sumLags);
      return c;
    }

    /**
     * The forecast made at {@code t} for {@code values[t + horizon]}, from {@code values[t - p + 1,
     * t]} only; NaN when {@code t < p - 1}.
     */
    public double forecast(double[] values, int t, int horizon) {
      if (t < lags - 1) {
        return Double.NaN;
      }
      // window[i] is the value i steps before the one being forecast.
      double[] window = new double[lags];
      for (int k = 0; k < lags; k++) {
        window[k] = values[t - k] - mean;
      }
      double[] v = new double[lags + 1];
      double y = Double.NaN;
      for (int step = 0; step < horizon; step++) {
        v[0] = 1;
        System.arraycopy(window, 0, v, 1, lags);
        y = dot(coef, v);
        System.arraycopy(window, 0, window, 1, lags - 1);
        window[0] = y;
      }
      return y + mean;
    }

    private static void levelRegressors(double[] values, int t, int lags, double mean, double[] v) {
      v[0] = 1;
      for (int k = 0; k < lags; k++) {
        v[k + 1] = values[t - k] - mean;
      }
    }
  }

  /** One row of a least-squares problem: fills the regressors, returns the response. */
  private interface Design {
    double row(int t, double[] regressors);
  }

  /**
   * Ordinary least squares over rows {@code [from, to)} of a design with {@code p} coefficients,
   * through the normal equations with a tiny ridge (a constant series stays solvable).
   */
  private static double[] leastSquares(int from, int to, int p, Design design) {
    double[][] a = new double[p][p];
    double[] b = new double[p];
    double[] v = new double[p];
    for (int t = from; t < to; t++) {
      double y = design.row(t, v);
      for (int i = 0; i < p; i++) {
        b[i] += v[i] * y;
        for (int j = 0; j < p; j++) {
          a[i][j] += v[i] * v[j];
        }
      }
    }
    for (int i = 0; i < p; i++) {
      a[i][i] += RIDGE * (1 + a[i][i]);
    }
    return solve(a, b);
  }

  private static double dot(double[] a, double[] b) {
    double y = 0;
    for (int i = 0; i < a.length; i++) {
      y += a[i] * b[i];
    }
    return y;
  }

  /** Gaussian elimination with partial pivoting (the system is tiny and well conditioned). */
  private static double[] solve(double[][] a, double[] b) {
    int n = b.length;
    for (int col = 0; col < n; col++) {
      int pivot = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
          pivot = r;
        }
      }
      double[] rowTmp = a[col];
      a[col] = a[pivot];
      a[pivot] = rowTmp;
      double bTmp = b[col];
      b[col] = b[pivot];
      b[pivot] = bTmp;
      for (int r = col + 1; r < n; r++) {
        double f = a[r][col] / a[col][col];
        for (int c = col; c < n; c++) {
          a[r][c] -= f * a[col][c];
        }
        b[r] -= f * b[col];
      }
    }
    double[] x = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double s = b[r];
      for (int c = r + 1; c < n; c++) {
        s -= a[r][c] * x[c];
      }
      x[r] = s / a[r][r];
    }
    return x;
  }
}
