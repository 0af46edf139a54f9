package io.stepcast.train;

import java.util.Objects;

/**
 * One time series as the trainer consumes it: feature vectors and targets, time-ordered, in raw
 * units.
 *
 * <p>{@code x[t]} is the feature vector of event {@code t} and {@code y[t]} the value(s) the
 * network must predict at {@code t} (the next event's transformed target). Both come from the
 * shared feature pipeline, so training sees exactly what serving will see. The arrays are used as
 * given, not copied: do not change them while a training runs.
 *
 * @param id the series id (the record key when serving); unique within one training set
 * @param x feature vectors, {@code [n][inputSize]}
 * @param y targets, {@code [n][outputSize]}
 */
public record SeriesData(String id, float[][] x, float[][] y) {

  /** Checks that {@code x} and {@code y} have one row per event. */
  public SeriesData {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(y, "y");
    if (x.length != y.length) {
      throw new IllegalArgumentException(
          "series '" + id + "' has " + x.length + " feature rows but " + y.length + " target rows");
    }
  }

  /** Number of events. */
  public int length() {
    return x.length;
  }
}
