package io.stepcast.model;

/**
 * A step model could not be built, loaded or validated.
 *
 * <p>Checked on purpose: a model arriving on the model topic or in the model directory may be
 * broken, and the caller must decide to keep serving the current one. The message always names what
 * failed (the missing metadata key, the input with the wrong shape, the golden step that diverged)
 * so it can be logged as is.
 */
public class ModelException extends Exception {

  private static final long serialVersionUID = 1L;

  /** A failure described by {@code message}. */
  public ModelException(String message) {
    super(message);
  }

  /** A failure described by {@code message}, caused by {@code cause}. */
  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
