package io.stepcast.features;

/**
 * One validated input event. Mutable and reused by the parser that filled it: copy what must
 * outlive the call. {@code fields[i]} is NaN where input field {@code i} was missing.
 */
public final class Event {
  String seriesId;
  long timeMillis;
  double target;
  final double[] fields;

  Event(int fieldCount) {
    this.fields = new double[fieldCount];
  }

  /** Creates an event directly (tests, training from already-parsed rows). */
  public static Event of(String seriesId, long timeMillis, double target, double... fields) {
    Event e = new Event(fields.length);
    e.seriesId = seriesId;
    e.timeMillis = timeMillis;
    e.target = target;
    System.arraycopy(fields, 0, e.fields, 0, fields.length);
    return e;
  }

  public String seriesId() {
    return seriesId;
  }

  public long timeMillis() {
    return timeMillis;
  }

  /** The target's value in this event, in its own units. */
  public double target() {
    return target;
  }

  /**
   * Replaces the target's value: a held anomaly steps the series on the forecast made for it, not
   * on the value that arrived.
   */
  public void replaceTarget(double value) {
    target = value;
  }

  /** Input field values in the spec's order; NaN where missing. */
  public double[] fields() {
    return fields;
  }

  /** A copy that does not share the field array. */
  public Event copy() {
    return of(seriesId, timeMillis, target, fields.clone());
  }
}
