package io.stepcast.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens ONNX Runtime sessions as an {@link ExecutionConfig} says, on the single JVM-wide {@link
 * OrtEnvironment}.
 *
 * <p>CUDA is tried when asked for. The CPU build of ONNX Runtime has no CUDA provider and a machine
 * without a GPU cannot start one; ONNX Runtime reports both as an {@link OrtException} either when
 * the provider is added to the options or when the session is created. With {@code fallbackToCpu}
 * the failure is logged at WARN with its reason and the session opens on the CPU; without it the
 * model is refused with an {@link ExecutionProviderException} that says how to fix it; {@link
 * #probe} finds this out at start-up, before any model has arrived. The provider actually in use is
 * returned, so callers can report it.
 */
public final class OrtSupport {

  private static final Logger log = LoggerFactory.getLogger(OrtSupport.class);

  private OrtSupport() {}

  /** The one {@link OrtEnvironment} of this JVM (created on first use, never closed by us). */
  public static OrtEnvironment environment() {
    return OrtEnvironment.getEnvironment();
  }

  /** The providers compiled into the ONNX Runtime on the class path, for diagnostics. */
  public static EnumSet<OrtProvider> availableProviders() {
    return OrtEnvironment.getAvailableProviders();
  }

  /**
   * Session options for the CPU provider with {@code exec}'s thread counts. The caller owns them
   * and closes them after every session made with them.
   */
  public static SessionOptions cpuOptions(ExecutionConfig exec) throws OrtException {
    // The environment first: it sets up ONNX Runtime's logging, which adding a provider uses.
    environment();
    SessionOptions options = new SessionOptions();
    try {
      options.setOptimizationLevel(SessionOptions.OptLevel.ALL_OPT);
      options.setIntraOpNumThreads(exec.intraOpThreads());
      options.setInterOpNumThreads(exec.interOpThreads());
      return options;
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  /**
   * Opens a session on {@code model} as {@code exec} says, falling back to the CPU if allowed.
   *
   * @throws ModelException if ONNX Runtime rejects the model, or CUDA is unavailable and no
   *     fallback is allowed
   */
  public static OpenSession open(byte[] model, ExecutionConfig exec) throws ModelException {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(exec, "exec");
    if (exec.provider() == ExecutionProvider.CUDA) {
      try {
        return openWith(model, exec, ExecutionProvider.CUDA);
      } catch (OrtException | RuntimeException e) {
        String reason = cudaReason(e);
        if (!exec.fallbackToCpu()) {
          throw new ExecutionProviderException(
              ExecutionProvider.CUDA,
              reason,
              "CUDA execution provider requested (device "
                  + exec.cudaDeviceId()
                  + ") but unavailable: "
                  + reason
                  + ". The default build bundles the CPU-only onnxruntime jar, which has no CUDA"
                  + " provider, or no usable GPU/CUDA runtime was found. Fix: build with -Pcuda"
                  + " (onnxruntime_gpu) and run on a host with an NVIDIA GPU and matching"
                  + " CUDA/cuDNN, or set fallbackToCpu=true, or choose the CPU provider.",
              e);
        }
        log.warn(
            "CUDA execution provider unavailable ({}); falling back to CPU as configured"
                + " (fallbackToCpu=true). To use CUDA, run the CUDA build (-Pcuda) on a host with an"
                + " NVIDIA GPU, CUDA 12 and cuDNN 9.",
            reason);
      }
    }
    try {
      return openWith(model, exec, ExecutionProvider.CPU);
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime cannot load the model: " + e.getMessage(), e);
    }
  }

  /**
   * Opens and closes a session on a tiny built-in model as {@code exec} says, so that a provider
   * that cannot start is found at start-up rather than when the first real model arrives.
   *
   * @return the provider sessions will actually run on (CPU after a permitted CUDA fallback)
   * @throws ExecutionProviderException if the provider cannot start and no fallback is allowed
   */
  public static ExecutionProvider probe(ExecutionConfig exec) throws ModelException {
    try (OpenSession s = open(ProbeModel.BYTES, exec)) {
      return s.provider();
    } catch (OrtException e) {
      throw new ModelException("closing the probe session failed: " + e.getMessage(), e);
    }
  }

  /** A one-feature, one-unit GRU step model, built once on first use. */
  private static final class ProbeModel {
    static final byte[] BYTES = build();

    private static byte[] build() {
      ModelSpec spec =
          ModelSpec.builder()
              .version("execution-probe")
              .pipeline("execution-probe")
              .network(CellType.GRU, 1, 1)
              .features(List.of("x"))
              .outputSize(1)
              .target("x", "none")
              .build();
      return StepModelBuilder.build(
          DemoModels.persistenceLikeWeights(CellType.GRU, 1, 1, 1, 1, 0L), spec);
    }
  }

  private static OpenSession openWith(byte[] model, ExecutionConfig exec, ExecutionProvider p)
      throws OrtException {
    SessionOptions options = cpuOptions(exec);
    try {
      if (p == ExecutionProvider.CUDA) {
        options.addCUDA(exec.cudaDeviceId());
      }
      OrtSession session = environment().createSession(model, options);
      return new OpenSession(session, options, p);
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  private static String cudaReason(Throwable e) {
    String message = String.valueOf(e.getMessage());
    String lower = message.toLowerCase(Locale.ROOT);
    if (!availableProviders().contains(OrtProvider.CUDA)) {
      return "the ONNX Runtime on the class path has no CUDA provider, it is the CPU build ("
          + message
          + ")";
    }
    if (lower.contains("failed to load shared library") || lower.contains("cannot open shared")) {
      return "the CUDA provider of onnxruntime_gpu cannot load its libraries: CUDA 12 and cuDNN 9"
          + " must be installed and on the library path ("
          + message
          + ")";
    }
    return "no usable GPU or CUDA runtime (" + message + ")";
  }

  /**
   * A session with the options it was made with and the provider it runs on. Close the session
   * before the options (this record's {@link #close()} does).
   */
  public record OpenSession(OrtSession session, SessionOptions options, ExecutionProvider provider)
      implements AutoCloseable {

    /** Closes the session, then its options. */
    @Override
    public void close() throws OrtException {
      try {
        session.close();
      } finally {
        options.close();
      }
    }
  }
}
