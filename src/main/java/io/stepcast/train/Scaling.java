package io.stepcast.train;

import java.util.List;

/**
 * Per-column mean and standard deviation of features and targets, fitted on training parts only.
 *
 * <p>A column whose standard deviation is below {@link #STD_FLOOR} (a constant) gets a standard
 * deviation of 1, so it scales to zero instead of blowing up.
 */
record Scaling(float[] xMean, float[] xStd, float[] yMean, float[] yStd) {

  static final double STD_FLOOR = 1e-6;

  /** Fits on rows {@code [0, trainEnd[i])} of every series {@code i}. */
  static Scaling fit(List<SeriesData> series, int[] trainEnd, int inputs, int outputs) {
    double[][] x = moments(series, trainEnd, inputs, true);
    double[][] y = moments(series, trainEnd, outputs, false);
    return new Scaling(toFloat(x[0]), floored(x[1]), toFloat(y[0]), floored(y[1]));
  }

  private static float[] floored(double[] std) {
    float[] out = new float[std.length];
    for (int j = 0; j < std.length; j++) {
      out[j] = std[j] < STD_FLOOR ? 1f : (float) std[j];
    }
    return out;
  }

  /**
   * Mean and (population) standard deviation of every column of the features ({@code features}) or
   * targets over rows {@code [0, trainEnd[i])} of every series {@code i}: {@code {mean, std}}.
   */
  static double[][] moments(List<SeriesData> series, int[] trainEnd, int width, boolean features) {
    double[] mean = new double[width];
    // Per column: a label past a series' end (a far horizon) is NaN and does not count.
    long[] count = new long[width];
    for (int i = 0; i < series.size(); i++) {
      float[][] rows = features ? series.get(i).x() : series.get(i).y();
      for (int t = 0; t < trainEnd[i]; t++) {
        for (int j = 0; j < width; j++) {
          if (!Float.isNaN(rows[t][j])) {
            mean[j] += rows[t][j];
            count[j]++;
          }
        }
      }
    }
    for (int j = 0; j < width; j++) {
      mean[j] /= count[j];
    }
    // Two passes: the squared deviations, not E[x^2] - E[x]^2, which cancels badly for prices.
    double[] std = new double[width];
    for (int i = 0; i < series.size(); i++) {
      float[][] rows = features ? series.get(i).x() : series.get(i).y();
      for (int t = 0; t < trainEnd[i]; t++) {
        for (int j = 0; j < width; j++) {
          if (!Float.isNaN(rows[t][j])) {
            double d = rows[t][j] - mean[j];
            std[j] += d * d;
          }
        }
      }
    }
    for (int j = 0; j < width; j++) {
      std[j] = Math.sqrt(std[j] / count[j]);
    }
    return new double[][] {mean, std};
  }

  private static float[] toFloat(double[] values) {
    float[] out = new float[values.length];
    for (int j = 0; j < values.length; j++) {
      out[j] = (float) values[j];
    }
    return out;
  }

  /** Scales rows {@code [from, to)} into {@code out} at {@code offset}, row-major. */
  static void scaleInto(
      float[][] rows, int from, int to, float[] mean, float[] std, float[] out, int offset) {
    int width = mean.length;
    for (int t = from; t < to; t++) {
      float[] row = rows[t];
      int base = offset + (t - from) * width;
      for (int j = 0; j < width; j++) {
        out[base + j] = (row[j] - mean[j]) / std[j];
      }
    }
  }
}
