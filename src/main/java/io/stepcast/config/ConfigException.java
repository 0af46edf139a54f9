package io.stepcast.config;

/**
 * A configuration error that names where it is (the file, or the command-line option), the field,
 * what is wrong and how to fix it. Thrown before any Kafka client starts.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String source;
  private final String field;

  /**
   * @param source the file (or {@code environment}, or a command-line option) the value came from
   * @param field the dotted field path, e.g. {@code target.transform}
   * @param problem what is wrong with the value
   * @param fix what to do about it
   */
  public ConfigException(String source, String field, String problem, String fix) {
    super(source + ": field '" + field + "': " + problem + ". Fix: " + fix);
    this.source = source;
    this.field = field;
  }

  /**
   * An error about a whole source rather than one field: an unknown environment variable, a
   * command-line option, an unreachable broker.
   *
   * @param source the file, environment variable or option
   * @param problem what is wrong
   * @param fix what to do about it
   */
  public ConfigException(String source, String problem, String fix) {
    super(source + ": " + problem + ". Fix: " + fix);
    this.source = source;
    this.field = null;
  }

  /** The file or other source of the bad value. */
  public String source() {
    return source;
  }

  /** The dotted path of the bad field, or null when the error is about the source itself. */
  public String field() {
    return field;
  }
}
