package io.stepcast.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Advances a {@link StepModel} one timestep for one series or a batch of series, with no allocation
 * of its own on the hot path.
 *
 * <p>For each batch size {@code n} actually used (up to {@code maxBatch}) it creates, once, direct
 * native-order float buffers for every input and output, {@link OnnxTensor}s over them, and runs
 * the session with the output tensors pinned ({@link OrtSession#run(Map, Map)}), so ONNX Runtime
 * reads the inputs from and writes the outputs into the same memory on every call. A call copies
 * the caller's arrays in, runs, and copies the results out.
 *
 * <p>Not thread-safe: one stepper per stream task. Arrays may be longer than needed (so callers can
 * reuse scratch arrays sized for {@code maxBatch}); only the first {@code n} rows are read and
 * written.
 */
public final class Stepper implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Stepper.class);

  private final StepModel model;
  private final OrtSession session;
  private final int maxBatch;
  private final int inputSize;
  private final int outputSize;
  private final int[] stateSizes;
  private final Slot[] slots;
  private boolean closed;

  Stepper(StepModel model, int maxBatch) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
    }
    this.model = model;
    this.session = model.session();
    this.maxBatch = maxBatch;
    this.inputSize = model.inputSize();
    this.outputSize = model.outputSize();
    this.stateSizes = model.stateSizes().clone();
    this.slots = new Slot[maxBatch + 1];
  }

  /** The largest batch this stepper accepts. */
  public int maxBatch() {
    return maxBatch;
  }

  /** The model this stepper runs. */
  public StepModel model() {
    return model;
  }

  /**
   * Advances one series: reads {@code x} ({@code inputSize} values, raw units) and {@code
   * states[i]} ({@code stateSize(i)} values each), writes the next states back into {@code
   * states[i]} and the forecast into {@code yOut} ({@code outputSize} values, raw units).
   *
   * @throws IllegalArgumentException if an array is too short or the state count is wrong
   * @throws ModelException if ONNX Runtime fails to run the step
   */
  public void step(float[] x, float[][] states, float[] yOut) throws ModelException {
    stepBatch(1, x, states, yOut);
  }

  /**
   * Advances {@code n} series in one ONNX Runtime call. Row-major: {@code x[r * inputSize + j]},
   * {@code states[i][r * stateSize(i) + k]} (updated in place), {@code yOut[r * outputSize + k]}.
   *
   * @throws IllegalArgumentException if {@code n} is outside {@code 1..maxBatch}, an array is too
   *     short or the state count is wrong
   * @throws ModelException if ONNX Runtime fails to run the step
   */
  public void stepBatch(int n, float[] x, float[][] states, float[] yOut) throws ModelException {
    if (closed) {
      throw new IllegalStateException("stepper is closed");
    }
    if (n < 1 || n > maxBatch) {
      throw new IllegalArgumentException("batch size " + n + " outside 1.." + maxBatch);
    }
    StepModel.requireLength("x", x, n * inputSize);
    StepModel.requireLength("yOut", yOut, n * outputSize);
    if (states == null || states.length != stateSizes.length) {
      throw new IllegalArgumentException(
          "expected "
              + stateSizes.length
              + " state arrays, got "
              + (states == null ? "null" : states.length));
    }
    for (int i = 0; i < stateSizes.length; i++) {
      StepModel.requireLength(model.stateName(i), states[i], n * stateSizes[i]);
    }
    Slot slot = slots[n];
    if (slot == null) {
      slot = createSlot(n);
      slots[n] = slot;
    }
    slot.x.put(0, x, 0, n * inputSize);
    for (int i = 0; i < stateSizes.length; i++) {
      slot.stateIn[i].put(0, states[i], 0, n * stateSizes[i]);
    }
    // The result holds only the pinned outputs, which it does not own: closing it frees nothing
    // of ours.
    try (OrtSession.Result ignored = session.run(slot.inputs, slot.outputs)) {
      slot.y.get(0, yOut, 0, n * outputSize);
      for (int i = 0; i < stateSizes.length; i++) {
        slot.stateOut[i].get(0, states[i], 0, n * stateSizes[i]);
      }
    } catch (OrtException e) {
      throw new ModelException(
          "ONNX Runtime failed to step model " + model.version() + " (batch " + n + "): " + e, e);
    }
  }

  private Slot createSlot(int n) throws ModelException {
    Slot slot = new Slot(stateSizes.length);
    try {
      slot.x = slot.tensor("x", n, inputSize, slot.inputs);
      for (int i = 0; i < stateSizes.length; i++) {
        slot.stateIn[i] = slot.tensor(model.stateName(i), n, stateSizes[i], slot.inputs);
      }
      slot.y = slot.tensor("y", n, outputSize, slot.outputs);
      for (int i = 0; i < stateSizes.length; i++) {
        slot.stateOut[i] = slot.tensor(model.nextNames()[i], n, stateSizes[i], slot.outputs);
      }
      return slot;
    } catch (OrtException e) {
      slot.close();
      throw new ModelException("cannot create tensors for batch " + n + ": " + e, e);
    }
  }

  /** Closes the tensors of every batch size used. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (int n = slots.length - 1; n > 0; n--) {
      if (slots[n] != null) {
        slots[n].close();
        slots[n] = null;
      }
    }
    model.forget(this);
  }

  /** The buffers and tensors for one batch size. */
  private static final class Slot {
    FloatBuffer x;
    FloatBuffer y;
    final FloatBuffer[] stateIn;
    final FloatBuffer[] stateOut;
    final Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
    final Map<String, OnnxTensor> outputs = new LinkedHashMap<>();
    private final List<OnnxTensor> created = new ArrayList<>();

    Slot(int states) {
      stateIn = new FloatBuffer[states];
      stateOut = new FloatBuffer[states];
    }

    /** A direct buffer of {@code [rows, cols]} floats and a tensor over it, put in {@code to}. */
    FloatBuffer tensor(String name, int rows, int cols, Map<String, OnnxTensor> to)
        throws OrtException {
      FloatBuffer buffer =
          ByteBuffer.allocateDirect(rows * cols * Float.BYTES)
              .order(ByteOrder.nativeOrder())
              .asFloatBuffer();
      OnnxTensor tensor =
          OnnxTensor.createTensor(OrtSupport.environment(), buffer, new long[] {rows, cols});
      created.add(tensor);
      to.put(name, tensor);
      return buffer;
    }

    void close() {
      for (int i = created.size() - 1; i >= 0; i--) {
        try {
          created.get(i).close();
        } catch (RuntimeException e) {
          log.warn("Closing a step tensor failed: {}", e.toString());
        }
      }
      created.clear();
    }
  }
}
