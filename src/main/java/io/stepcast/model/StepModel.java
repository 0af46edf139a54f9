package io.stepcast.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.stepcast.model.ModelSpec.GoldenVectors;
import io.stepcast.model.ModelSpec.StateSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded, validated ONNX step model: the ONNX Runtime session, its {@link ModelSpec} and the
 * execution provider it runs on. Thread-safe; each stream task steps through its own {@link
 * Stepper}.
 *
 * <p>{@link #load(byte[], ExecutionConfig)} refuses a model unless (1) its metadata holds a valid
 * spec under {@value ModelSpec#METADATA_KEY}, (2) the session's signature is the step-model
 * contract for that spec (input {@code x} and one input per state, outputs {@code y} and {@code
 * <state>_next}, all float32 {@code [batch, n]} with the spec's {@code n}) and (3) run step by step
 * from zero state on the golden inputs, it reproduces the golden outputs. A model from any exporter
 * (stepcast's builder, PyTorch, Keras) that satisfies the contract loads.
 *
 * <p>Closing closes the steppers still open, then the session, then the session options.
 */
public final class StepModel implements AutoCloseable {

  /**
   * Golden-vector tolerance: an output may differ from the expected value by at most this much
   * times {@code max(1, |expected|)}; relative for large raw values, where float32 itself cannot
   * resolve an absolute 1e-4.
   */
  public static final double GOLDEN_TOLERANCE = 1e-4;

  private static final Logger log = LoggerFactory.getLogger(StepModel.class);

  private final ModelSpec spec;
  private final OrtSupport.OpenSession open;
  private final String[] stateNames;
  private final String[] nextNames;
  private final int[] stateSizes;
  private final Set<Stepper> steppers = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private StepModel(ModelSpec spec, OrtSupport.OpenSession open) {
    this.spec = spec;
    this.open = open;
    List<StateSpec> states = spec.states();
    stateNames = new String[states.size()];
    nextNames = new String[states.size()];
    stateSizes = new int[states.size()];
    for (int i = 0; i < stateNames.length; i++) {
      stateNames[i] = states.get(i).name();
      nextNames[i] = states.get(i).nextName();
      stateSizes[i] = states.get(i).size();
    }
  }

  /** Reads, loads and validates the model in file {@code path}. */
  public static StepModel load(Path path, ExecutionConfig exec) throws ModelException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new ModelException("cannot read model file " + path + ": " + e, e);
    }
    try {
      return load(bytes, exec);
    } catch (ModelException e) {
      throw new ModelException("model file " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Loads and validates a serialized ONNX step model.
   *
   * @throws ModelException if ONNX Runtime rejects the bytes, the requested provider is unavailable
   *     without fallback, or the spec, signature or golden vectors do not check out
   */
  public static StepModel load(byte[] onnxBytes, ExecutionConfig exec) throws ModelException {
    OrtSupport.OpenSession open = OrtSupport.open(onnxBytes, exec);
    StepModel model = null;
    try {
      ModelSpec spec = readSpec(open.session());
      checkSignature(open.session(), spec);
      model = new StepModel(spec, open);
      model.checkGolden();
      log.debug(
          "Loaded step model {} ({} {}x{}) on {}",
          spec.version(),
          spec.cell().id(),
          spec.layers(),
          spec.hiddenSize(),
          open.provider());
      return model;
    } catch (ModelException | RuntimeException e) {
      if (model != null) {
        model.close();
      } else {
        closeQuietly(open);
      }
      throw e;
    }
  }

  private static ModelSpec readSpec(OrtSession session) throws ModelException {
    Optional<String> json;
    try {
      json = session.getMetadata().getCustomMetadataValue(ModelSpec.METADATA_KEY);
    } catch (OrtException e) {
      throw new ModelException("cannot read the model's metadata: " + e.getMessage(), e);
    }
    if (json.isEmpty() || json.get().isBlank()) {
      throw new ModelException(
          "model metadata has no '"
              + ModelSpec.METADATA_KEY
              + "' entry: not a stepcast step model (export it with its spec in metadata_props)");
    }
    try {
      return ModelSpec.fromJson(json.get());
    } catch (IllegalArgumentException e) {
      throw new ModelException(
          "model metadata '" + ModelSpec.METADATA_KEY + "' is not a valid spec: " + e.getMessage(),
          e);
    }
  }

  private static void checkSignature(OrtSession session, ModelSpec spec) throws ModelException {
    Map<String, NodeInfo> inputs;
    Map<String, NodeInfo> outputs;
    try {
      inputs = session.getInputInfo();
      outputs = session.getOutputInfo();
    } catch (OrtException e) {
      throw new ModelException("cannot read the model's signature: " + e.getMessage(), e);
    }
    Set<String> expectedIn = new LinkedHashSet<>();
    Set<String> expectedOut = new LinkedHashSet<>();
    expectedIn.add("x");
    expectedOut.add("y");
    for (StateSpec s : spec.states()) {
      expectedIn.add(s.name());
      expectedOut.add(s.nextName());
    }
    if (!inputs.keySet().equals(expectedIn)) {
      throw new ModelException(
          "model inputs are " + inputs.keySet() + ", the spec expects " + expectedIn);
    }
    if (!outputs.keySet().equals(expectedOut)) {
      throw new ModelException(
          "model outputs are " + outputs.keySet() + ", the spec expects " + expectedOut);
    }
    checkTensor("input", inputs.get("x"), spec.inputSize());
    checkTensor("output", outputs.get("y"), spec.outputSize());
    for (StateSpec s : spec.states()) {
      checkTensor("input", inputs.get(s.name()), s.size());
      checkTensor("output", outputs.get(s.nextName()), s.size());
    }
  }

  /** Float32, rank 2, trailing dimension {@code size} (a symbolic one is left to the goldens). */
  private static void checkTensor(String kind, NodeInfo node, int size) throws ModelException {
    if (!(node.getInfo() instanceof TensorInfo info)) {
      throw new ModelException(kind + " '" + node.getName() + "' is not a tensor");
    }
    if (info.type != OnnxJavaType.FLOAT) {
      throw new ModelException(
          kind + " '" + node.getName() + "' is " + info.type + ", expected float32");
    }
    long[] shape = info.getShape();
    if (shape.length != 2 || (shape[1] >= 0 && shape[1] != size)) {
      throw new ModelException(
          kind
              + " '"
              + node.getName()
              + "' has shape "
              + Arrays.toString(shape)
              + ", expected [batch, "
              + size
              + "]");
    }
  }

  private void checkGolden() throws ModelException {
    GoldenVectors golden = spec.golden();
    if (golden == null || golden.y() == null) {
      throw new ModelException(
          "model spec has no golden vectors (x and y): cannot verify the model, refusing it");
    }
    float[][] states = new float[stateNames.length][];
    for (int i = 0; i < states.length; i++) {
      states[i] = new float[stateSizes[i]];
    }
    float[] y = new float[spec.outputSize()];
    try (Stepper stepper = newStepper(1)) {
      for (int t = 0; t < golden.steps(); t++) {
        stepper.step(golden.x()[t], states, y);
        for (int k = 0; k < y.length; k++) {
          float expected = golden.y()[t][k];
          double diff = Math.abs((double) y[k] - expected);
          // Written so that NaN on either side fails the check.
          if (!(diff <= GOLDEN_TOLERANCE * Math.max(1.0, Math.abs(expected)))) {
            throw new ModelException(
                "golden vector mismatch at step "
                    + t
                    + ", output "
                    + k
                    + ": expected "
                    + expected
                    + ", actual "
                    + y[k]
                    + " (|diff| "
                    + diff
                    + " exceeds "
                    + GOLDEN_TOLERANCE
                    + " x max(1, |expected|)); the model does not compute what its trainer"
                    + " recorded");
          }
        }
      }
    }
  }

  /** The model's spec. */
  public ModelSpec spec() {
    return spec;
  }

  /** The model's version (from its spec). */
  public String version() {
    return spec.version();
  }

  /** Columns of {@code x}. */
  public int inputSize() {
    return spec.inputSize();
  }

  /** Columns of {@code y}. */
  public int outputSize() {
    return spec.outputSize();
  }

  /** Number of state tensors. */
  public int stateCount() {
    return stateNames.length;
  }

  /** Name of state tensor {@code i} (its output is {@code name + "_next"}). */
  public String stateName(int i) {
    return stateNames[i];
  }

  /** Columns of state tensor {@code i}. */
  public int stateSize(int i) {
    return stateSizes[i];
  }

  /** The execution provider the session actually runs on (CPU after a CUDA fallback). */
  public ExecutionProvider provider() {
    return open.provider();
  }

  /**
   * A new stepper for batches of up to {@code maxBatch} series. One per stream task: a stepper is
   * not thread-safe. It is closed with this model if still open then.
   */
  public Stepper newStepper(int maxBatch) {
    if (closed) {
      throw new IllegalStateException("step model " + spec.version() + " is closed");
    }
    Stepper stepper = new Stepper(this, maxBatch);
    steppers.add(stepper);
    return stepper;
  }

  OrtSession session() {
    return open.session();
  }

  String[] stateNames() {
    return stateNames;
  }

  String[] nextNames() {
    return nextNames;
  }

  int[] stateSizes() {
    return stateSizes;
  }

  void forget(Stepper stepper) {
    steppers.remove(stepper);
  }

  /** Closes open steppers (their tensors), then the session, then the session options. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Stepper s : new ArrayList<>(steppers)) {
      s.close();
    }
    closeQuietly(open);
  }

  private static void closeQuietly(OrtSupport.OpenSession open) {
    try {
      open.close();
    } catch (OrtException | RuntimeException e) {
      log.warn("Closing an ONNX Runtime session failed: {}", e.toString());
    }
  }

  @Override
  public String toString() {
    return "StepModel[" + spec.version() + ", " + spec.cell().id() + ", " + provider() + "]";
  }

  static void requireLength(String what, float[] array, int needed) {
    Objects.requireNonNull(array, what);
    if (array.length < needed) {
      throw new IllegalArgumentException(
          what + " has " + array.length + " values, needs at least " + needed);
    }
  }
}
