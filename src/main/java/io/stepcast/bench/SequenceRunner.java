package io.stepcast.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelException;
import io.stepcast.model.OrtSupport;
import io.stepcast.model.SequenceModelBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * Runs a sequence graph ({@link SequenceModelBuilder}) over one series' window per call, the way
 * the windowed design does for every event, with the same care the step path gets: for each window
 * length used it creates once a direct buffer and tensor for {@code x} ({@code [n, 1, features]})
 * and a pinned output tensor for {@code y}, so a call copies the window in, runs and copies one
 * value out.
 *
 * <p>Not thread-safe: one per stream task. Closes its tensors, then its session.
 */
final class SequenceRunner implements AutoCloseable {
  private final OrtSupport.OpenSession session;
  private final int features;
  private final FloatBuffer yBuffer;
  private final OnnxTensor yTensor;
  private final Map<String, OnnxTensor> outputs;
  private final Length[] lengths;

  SequenceRunner(byte[] sequenceModel, int features, int maxLength) throws ModelException {
    this.session = OrtSupport.open(sequenceModel, ExecutionConfig.cpu());
    this.features = features;
    this.lengths = new Length[maxLength + 1];
    try {
      this.yBuffer = direct(1);
      this.yTensor = OnnxTensor.createTensor(OrtSupport.environment(), yBuffer, new long[] {1, 1});
    } catch (OrtException e) {
      close();
      throw new ModelException("cannot create the output tensor: " + e, e);
    }
    this.outputs = Map.of("y", yTensor);
  }

  /**
   * Runs the graph over the first {@code n} rows of {@code window} (row-major, {@code features}
   * values per row, oldest first) from a zero state and returns the head's output.
   */
  float run(float[] window, int n) throws ModelException {
    Length l = lengths[n];
    if (l == null) {
      FloatBuffer buffer = direct(n * features);
      try {
        l =
            new Length(
                buffer,
                OnnxTensor.createTensor(
                    OrtSupport.environment(), buffer, new long[] {n, 1, features}));
      } catch (OrtException e) {
        throw new ModelException("cannot create the input tensor for " + n + " steps: " + e, e);
      }
      lengths[n] = l;
    }
    l.x.put(0, window, 0, n * features);
    try (OrtSession.Result ignored = session.session().run(l.inputs, outputs)) {
      return yBuffer.get(0);
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime failed to run the sequence graph: " + e, e);
    }
  }

  private static FloatBuffer direct(int floats) {
    return ByteBuffer.allocateDirect(floats * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  @Override
  public void close() {
    for (int i = lengths.length - 1; i > 0; i--) {
      if (lengths[i] != null) {
        lengths[i].tensor.close();
      }
    }
    if (yTensor != null) {
      yTensor.close();
    }
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("closing the sequence session failed: " + e, e);
    }
  }

  /** The input buffer and tensor for one window length. */
  private static final class Length {
    final FloatBuffer x;
    final OnnxTensor tensor;
    final Map<String, OnnxTensor> inputs;

    Length(FloatBuffer x, OnnxTensor tensor) {
      this.x = x;
      this.tensor = tensor;
      this.inputs = Map.of("x", tensor);
    }
  }
}
