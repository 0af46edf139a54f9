package io.stepcast.model;

import java.util.Objects;

/**
 * How ONNX Runtime should execute step models: which provider, whether a missing CUDA provider may
 * fall back to the CPU, and the size of ONNX Runtime's own thread pools.
 *
 * <p>The thread pools default to one thread each: a step of a small recurrent network is far too
 * short to gain from intra-op parallelism, and Kafka Streams already runs one stream thread per
 * core; extra ONNX Runtime threads would only compete with them.
 *
 * @param provider the requested execution provider
 * @param fallbackToCpu if CUDA is requested but unavailable, run on the CPU (with a warning)
 *     instead of refusing the model
 * @param cudaDeviceId the CUDA device ordinal; ignored for {@link ExecutionProvider#CPU}
 * @param intraOpThreads ONNX Runtime intra-op threads (0 lets ONNX Runtime choose)
 * @param interOpThreads ONNX Runtime inter-op threads (0 lets ONNX Runtime choose)
 */
public record ExecutionConfig(
    ExecutionProvider provider,
    boolean fallbackToCpu,
    int cudaDeviceId,
    int intraOpThreads,
    int interOpThreads) {

  /** Checks the values; throws {@link IllegalArgumentException} naming the bad one. */
  public ExecutionConfig {
    Objects.requireNonNull(provider, "provider");
    if (cudaDeviceId < 0) {
      throw new IllegalArgumentException("cudaDeviceId must be >= 0, got " + cudaDeviceId);
    }
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException("intraOpThreads must be >= 0, got " + intraOpThreads);
    }
    if (interOpThreads < 0) {
      throw new IllegalArgumentException("interOpThreads must be >= 0, got " + interOpThreads);
    }
  }

  /** CPU with one intra-op and one inter-op thread: the default. */
  public static ExecutionConfig cpu() {
    return new ExecutionConfig(ExecutionProvider.CPU, false, 0, 1, 1);
  }

  /** CUDA on {@code deviceId}, one thread per pool, optionally falling back to the CPU. */
  public static ExecutionConfig cuda(int deviceId, boolean fallbackToCpu) {
    return new ExecutionConfig(ExecutionProvider.CUDA, fallbackToCpu, deviceId, 1, 1);
  }
}
