package io.stepcast.train;

/**
 * Mean absolute and root mean squared error of one forecaster over a set of events, in the target's
 * own units.
 *
 * @param count number of forecasts scored
 * @param mae mean absolute error (NaN when nothing was scored)
 * @param rmse root mean squared error (NaN when nothing was scored)
 */
public record Accuracy(long count, double mae, double rmse) {

  /** Sums absolute and squared errors; one per forecaster and series (and one overall). */
  public static final class Sum {
    private long count;
    private double abs;
    private double squares;

    /** Adds one forecast's error (actual minus forecast); NaN is ignored. */
    public void add(double error) {
      if (Double.isNaN(error)) {
        return;
      }
      count++;
      abs += Math.abs(error);
      squares += error * error;
    }

    /** Adds everything another sum holds. */
    public void add(Sum other) {
      count += other.count;
      abs += other.abs;
      squares += other.squares;
    }

    /** Number of errors added. */
    public long count() {
      return count;
    }

    /** The accuracy so far. */
    public Accuracy accuracy() {
      return count == 0
          ? new Accuracy(0, Double.NaN, Double.NaN)
          : new Accuracy(count, abs / count, Math.sqrt(squares / count));
    }
  }
}
