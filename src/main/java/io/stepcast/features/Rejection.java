package io.stepcast.features;

import java.util.Locale;

/**
 * Why an event was not used. Each reason is a dead-letter header value and a metric tag, so the set
 * is closed and small.
 */
public enum Rejection {
  /** The value is not JSON, or not a JSON object. */
  MALFORMED_JSON,
  /**
   * A required field (timestamp, target, series id, or an input under the reject policy) is absent
   * or null.
   */
  MISSING_FIELD,
  /** A numeric field holds something other than a number. */
  NON_NUMERIC,
  /** A numeric field is NaN, infinite, or beyond float32 range (the model's input type). */
  NOT_FINITE,
  /** The target must be positive for a log-return transform. */
  NOT_POSITIVE,
  /** The timestamp cannot be read in the spec's format. */
  BAD_TIMESTAMP,
  /**
   * A value outside its plausible range: an event time before {@code timestamp.earliest} or more
   * than {@code timestamp.maxAhead} ahead of the clock (or beyond what epoch milliseconds hold), or
   * a value outside its field's {@code min}/{@code max}.
   */
  OUT_OF_RANGE,
  /** The series id (record key or field) is missing, empty, too long or not text. */
  BAD_KEY,
  /** The event is older than the series' last event. */
  LATE,
  /** The event has the same time as the series' last event. */
  DUPLICATE,
  /**
   * The actual fell outside the widest prediction interval of the forecast it scores, and {@code
   * policies.anomaly} is {@code dead_letter}.
   */
  ANOMALY,
  /**
   * The record could not be written where it was going (larger than the producer's {@code
   * max.request.size} or refused by the broker); a bounded copy went to the dead-letter topic.
   */
  TOO_LARGE,
  /**
   * stepcast failed on this record (a bug met by one record, or an unreadable internal repartition
   * record): logged at ERROR with the stack trace, dead-lettered rather than stopping the pipeline.
   */
  INTERNAL_ERROR;

  private final String id = name().toLowerCase(Locale.ROOT);

  /** Lowercase id used in headers and metric tags, e.g. {@code malformed_json}. */
  public String id() {
    return id;
  }
}
