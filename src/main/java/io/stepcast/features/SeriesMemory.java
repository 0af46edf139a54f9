package io.stepcast.features;

/**
 * What the feature pipeline needs to remember of a series between events: the previous event's time
 * and target, and the last seen value of each input field (for carry-forward). The server's state
 * store value and the trainer's replay both implement it, so both compute identical features.
 */
public interface SeriesMemory {
  /** Whether the series has seen an event before this one. */
  boolean hasPrevious();

  /** The previous event's time, epoch milliseconds. */
  long previousTime();

  /** The previous event's target value, in its own units. */
  double previousTarget();

  /** The last seen value of each input field; NaN where never seen. Mutable. */
  float[] lastFields();
}
