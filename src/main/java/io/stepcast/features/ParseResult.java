package io.stepcast.features;

/**
 * The outcome of parsing one record: an event, a rejection with its reason, or a skip (a missing
 * value under the {@code skip} policy). Reused by the parser; read it before the next parse.
 */
public final class ParseResult {
  /** Outcome of a parse. */
  public enum Kind {
    EVENT,
    REJECTED,
    SKIPPED
  }

  Kind kind;
  Rejection reason;
  String message;
  final Event event;

  ParseResult(Event event) {
    this.event = event;
  }

  public Kind kind() {
    return kind;
  }

  /** The event, valid when {@link #kind()} is {@code EVENT}. */
  public Event event() {
    return event;
  }

  /** Why it was rejected or skipped. */
  public Rejection reason() {
    return reason;
  }

  /** A human-readable explanation naming the field. */
  public String message() {
    return message;
  }

  ParseResult ok() {
    kind = Kind.EVENT;
    reason = null;
    message = null;
    return this;
  }

  ParseResult reject(Rejection r, String msg) {
    kind = Kind.REJECTED;
    reason = r;
    message = msg;
    return this;
  }

  ParseResult skip(Rejection r, String msg) {
    kind = Kind.SKIPPED;
    reason = r;
    message = msg;
    return this;
  }
}
