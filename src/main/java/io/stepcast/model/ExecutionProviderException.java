package io.stepcast.model;

/**
 * The requested execution provider cannot start on this machine (CUDA asked for, but the ONNX
 * Runtime on the class path has no CUDA provider, or there is no usable GPU) and falling back to
 * the CPU is not allowed.
 *
 * <p>Unlike other {@link ModelException}s this is not the model's fault: every model would fail the
 * same way, so callers that start an instance treat it as a configuration error.
 */
public final class ExecutionProviderException extends ModelException {
  private static final long serialVersionUID = 1L;

  private final ExecutionProvider provider;
  private final String reason;

  /**
   * @param provider the provider that was requested
   * @param reason why it cannot start, without advice (e.g. "the ONNX Runtime on the class path has
   *     no CUDA provider (...)")
   * @param message the full message, with the fix
   */
  public ExecutionProviderException(
      ExecutionProvider provider, String reason, String message, Throwable cause) {
    super(message, cause);
    this.provider = provider;
    this.reason = reason;
  }

  /** The provider that was requested. */
  public ExecutionProvider provider() {
    return provider;
  }

  /** Why the provider cannot start, without advice. */
  public String reason() {
    return reason;
  }
}
