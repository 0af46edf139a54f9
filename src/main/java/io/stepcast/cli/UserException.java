package io.stepcast.cli;

/** A mistake in how a command was called; printed as one line, exit code 2. */
final class UserException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UserException(String message) {
    super(message);
  }
}
