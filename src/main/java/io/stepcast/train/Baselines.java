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

  /** Lags of the demo's linear autoregressive baseline (on the transformed target). */
  public static final int AR_LAGS = 4;

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
    int i = t + 1 - season;
    return i >= 0 ? rows.targets()[i] : Double.NaN;
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
      double[][] a = new double[p][p];
      double[] b = new double[p];
      double[] v = new double[p];
      for (int t = from; t < trainEnd; t++) {
        regressors(rows, t, lags, v);
        double y = rows.y()[t][0];
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
      return new LinearAr(solve(a, b), lags);
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

    private static double dot(double[] a, double[] b) {
      double y = 0;
      for (int i = 0; i < a.length; i++) {
        y += a[i] * b[i];
      }
      return y;
    }

    private static void regressors(SeriesReplay.Rows rows, int t, int lags, double[] v) {
      v[0] = 1;
      for (int k = 0; k < lags; k++) {
        v[k + 1] = rows.x()[t - k][0];
      }
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
}
