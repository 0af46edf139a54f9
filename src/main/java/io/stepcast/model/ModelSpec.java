package io.stepcast.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The self-description of a step model, stored as JSON in the ONNX model's {@code metadata_props}
 * under {@link #METADATA_KEY}: what the model is (version, pipeline, cell type and sizes), how to
 * feed it (feature names in column order, target and its transform, state tensors, burn-in) and how
 * to check it (training figures and golden vectors).
 *
 * <p>The model file alone is the contract: a serving instance needs nothing but the ONNX bytes to
 * validate and run a model, so every fact the server relies on lives here.
 *
 * <p>JSON is forward compatible: fields this build does not know are ignored, so a newer trainer
 * may add fields without breaking older servers. {@code specVersion} only grows when a change is
 * not backward compatible.
 *
 * @param specVersion version of this spec format, {@value #CURRENT_SPEC_VERSION} today
 * @param version the model's version, named in every forecast it makes
 * @param pipeline the forecasting pipeline (topology spec name) the model was trained for
 * @param cell the recurrent cell
 * @param layers number of stacked recurrent layers
 * @param hiddenSize hidden units per layer
 * @param inputSize number of input features (columns of {@code x})
 * @param outputSize number of outputs (columns of {@code y})
 * @param features names of the columns of {@code x}, in order ({@code inputSize} of them)
 * @param target name of the forecast target
 * @param targetTransform how {@code y} relates to the target: {@code none} (y is the next value),
 *     {@code difference} (next minus current) or {@code log_return} (log of next over current)
 * @param states the state tensors, in input order; their outputs are named {@code <name>_next}
 * @param burnIn number of events a series needs before its state is considered warm
 * @param training training figures, for example {@code val_mae} and {@code persistence_mae}; may be
 *     empty
 * @param golden a short input sequence from zero state and the outputs the trainer expects; checked
 *     when the model is loaded (may be null only before the builder fills it in)
 * @param createdAt ISO-8601 creation time, may be null
 * @param targets every target the model forecasts, with its transform, in output order; the first
 *     is {@code target} (null in the JSON: that one alone; null here only for an older spec with
 *     unnamed outputs, see {@code outputs})
 * @param horizons how many events ahead each target is forecast, ascending from 1 (null in the
 *     JSON: {@code [1]}; null here as {@code targets})
 * @param outputs the name of every column of {@code y}, {@code target@horizon}, target-major:
 *     column {@code j * horizons.size() + k} is target {@code j} at horizon {@code horizons[k]}
 *     (derived; when given it must match; null for an older spec whose {@code outputSize} is not
 *     its targets times horizons)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelSpec(
    int specVersion,
    String version,
    String pipeline,
    CellType cell,
    int layers,
    int hiddenSize,
    int inputSize,
    int outputSize,
    List<String> features,
    String target,
    String targetTransform,
    List<StateSpec> states,
    int burnIn,
    Map<String, Double> training,
    GoldenVectors golden,
    String createdAt,
    List<TargetSpec> targets,
    List<Integer> horizons,
    List<String> outputs) {

  /** The {@code metadata_props} key that holds the spec JSON. */
  public static final String METADATA_KEY = "stepcast.spec";

  /** The spec format version this build writes. */
  public static final int CURRENT_SPEC_VERSION = 1;

  /** The target transforms a spec may name. */
  public static final List<String> TARGET_TRANSFORMS = List.of("none", "difference", "log_return");

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false);

  /**
   * Checks the spec's internal consistency and fills defaults (empty training map, the cell's
   * default state tensors, {@code none} transform); throws {@link IllegalArgumentException} that
   * names the offending field.
   */
  public ModelSpec {
    if (specVersion < 1) {
      throw new IllegalArgumentException("specVersion must be >= 1, got " + specVersion);
    }
    requireText("version", version);
    // A model that does not say which pipeline it is for could be served by any of them.
    requireText("pipeline", pipeline);
    Objects.requireNonNull(cell, "spec field 'cell' is missing");
    requirePositive("layers", layers);
    requirePositive("hiddenSize", hiddenSize);
    requirePositive("inputSize", inputSize);
    requirePositive("outputSize", outputSize);
    if (features == null || features.size() != inputSize) {
      throw new IllegalArgumentException(
          "spec field 'features' must name all "
              + inputSize
              + " input columns, got "
              + (features == null ? "none" : features.size()));
    }
    features = List.copyOf(features);
    // A spec that lists its targets may leave out the first one's target and targetTransform.
    TargetSpec listedFirst = targets == null || targets.isEmpty() ? null : targets.get(0);
    target = target == null && listedFirst != null ? listedFirst.name() : target;
    requireText("target", target);
    targetTransform =
        targetTransform == null && listedFirst != null ? listedFirst.transform() : targetTransform;
    targetTransform =
        targetTransform == null ? "none" : targetTransform.toLowerCase(Locale.ROOT).trim();
    if (!TARGET_TRANSFORMS.contains(targetTransform)) {
      throw new IllegalArgumentException(
          "spec field 'targetTransform' is '"
              + targetTransform
              + "', expected one of "
              + TARGET_TRANSFORMS);
    }
    states =
        states == null || states.isEmpty()
            ? defaultStates(cell, layers, hiddenSize)
            : List.copyOf(states);
    Set<String> names = new HashSet<>();
    for (StateSpec s : states) {
      if (s.name().equals("x") || s.name().equals("y") || !names.add(s.name())) {
        throw new IllegalArgumentException(
            "spec field 'states' has a duplicate or reserved name '" + s.name() + "'");
      }
    }
    // A spec from before several targets and horizons names neither; its outputs are unnamed then
    // unless there is one (a serving registry refuses any other count for such a model).
    boolean explicit =
        (targets != null && !targets.isEmpty()) || (horizons != null && !horizons.isEmpty());
    targets =
        targets == null || targets.isEmpty()
            ? List.of(new TargetSpec(target, targetTransform))
            : List.copyOf(targets);
    TargetSpec first = targets.get(0);
    if (!first.name().equals(target) || !first.transform().equals(targetTransform)) {
      throw new IllegalArgumentException(
          "spec field 'targets' must start with the target '"
              + target
              + "' ("
              + targetTransform
              + "), got '"
              + first.name()
              + "' ("
              + first.transform()
              + ")");
    }
    Set<String> targetNames = new HashSet<>();
    for (TargetSpec t : targets) {
      if (!targetNames.add(t.name())) {
        throw new IllegalArgumentException(
            "spec field 'targets' names '" + t.name() + "' more than once");
      }
    }
    horizons = horizons == null || horizons.isEmpty() ? List.of(1) : List.copyOf(horizons);
    int previous = 0;
    for (Integer h : horizons) {
      if (h == null || h <= previous || (previous == 0 && h != 1)) {
        throw new IllegalArgumentException(
            "spec field 'horizons' must ascend strictly from 1, got " + horizons);
      }
      previous = h;
    }
    boolean named = outputSize == targets.size() * horizons.size();
    if (explicit && !named) {
      throw new IllegalArgumentException(
          "spec field 'outputSize' is "
              + outputSize
              + ", but "
              + targets.size()
              + " targets x "
              + horizons.size()
              + " horizons make "
              + targets.size() * horizons.size()
              + " outputs");
    }
    List<String> derived = named ? outputNames(targets, horizons) : null;
    if (outputs != null && !outputs.isEmpty() && !outputs.equals(derived)) {
      throw new IllegalArgumentException(
          "spec field 'outputs' is " + outputs + ", the targets and horizons give " + derived);
    }
    outputs = derived;
    if (!named) {
      targets = null;
      horizons = null;
    }
    if (burnIn < 0) {
      throw new IllegalArgumentException("spec field 'burnIn' must be >= 0, got " + burnIn);
    }
    training =
        training == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(training));
    if (golden != null) {
      golden.checkSizes(inputSize, outputSize);
    }
  }

  /**
   * The names of the columns of {@code y} for these targets and horizons, target-major: {@code
   * temperature@1, temperature@6, wind@1, wind@6}.
   */
  public static List<String> outputNames(List<TargetSpec> targets, List<Integer> horizons) {
    List<String> out = new ArrayList<>(targets.size() * horizons.size());
    for (TargetSpec t : targets) {
      for (int h : horizons) {
        out.add(t.name() + "@" + h);
      }
    }
    return List.copyOf(out);
  }

  /** The column of {@code y} that holds target {@code j} at the {@code k}-th horizon. */
  public int outputIndex(int j, int k) {
    return j * (horizons == null ? 1 : horizons.size()) + k;
  }

  /** The state tensors stepcast's own builder writes: {@code h, c} for LSTM, {@code h} for GRU. */
  public static List<StateSpec> defaultStates(CellType cell, int layers, int hiddenSize) {
    int size = layers * hiddenSize;
    return cell == CellType.LSTM
        ? List.of(new StateSpec("h", size), new StateSpec("c", size))
        : List.of(new StateSpec("h", size));
  }

  /** This spec with other golden vectors. */
  public ModelSpec withGolden(GoldenVectors newGolden) {
    return toBuilder().golden(newGolden).build();
  }

  /** A builder preset with this spec's values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** An empty builder ({@code specVersion} preset to {@value #CURRENT_SPEC_VERSION}). */
  public static Builder builder() {
    return new Builder();
  }

  /** The spec as compact JSON. */
  public String toJson() {
    try {
      return MAPPER.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write model spec as JSON: " + e.getMessage(), e);
    }
  }

  /**
   * Parses a spec; unknown fields are ignored.
   *
   * @throws IllegalArgumentException if the JSON is malformed or the spec is inconsistent; the
   *     message names the field
   */
  public static ModelSpec fromJson(String json) {
    Objects.requireNonNull(json, "json");
    try {
      ModelSpec spec = MAPPER.readValue(json, ModelSpec.class);
      if (spec == null) {
        throw new IllegalArgumentException("model spec JSON is null");
      }
      return spec;
    } catch (ValueInstantiationException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalArgumentException("invalid model spec: " + cause.getMessage(), e);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("malformed model spec JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static void requireText(String field, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("spec field '" + field + "' is missing or blank");
    }
  }

  private static void requirePositive(String field, int value) {
    if (value < 1) {
      throw new IllegalArgumentException("spec field '" + field + "' must be >= 1, got " + value);
    }
  }

  /**
   * One target of the model and how {@code y} relates to it: {@code none} (the value h events
   * ahead), {@code difference} (that value minus the current one) or {@code log_return} (the log of
   * their ratio).
   */
  public record TargetSpec(String name, String transform) {

    /** Targets from parallel lists of names and transform ids. */
    public static List<TargetSpec> list(List<String> names, List<String> transforms) {
      List<TargetSpec> out = new ArrayList<>(names.size());
      for (int j = 0; j < names.size(); j++) {
        out.add(new TargetSpec(names.get(j), transforms.get(j)));
      }
      return List.copyOf(out);
    }

    /** Checks the name and normalises the transform ({@code none} when null). */
    public TargetSpec {
      requireText("targets[].name", name);
      transform = transform == null ? "none" : transform.toLowerCase(Locale.ROOT).trim();
      if (!TARGET_TRANSFORMS.contains(transform)) {
        throw new IllegalArgumentException(
            "spec field 'targets["
                + name
                + "].transform' is '"
                + transform
                + "', expected one of "
                + TARGET_TRANSFORMS);
      }
    }
  }

  /**
   * One state tensor of the step model: input {@code name}, output {@code name + "_next"}, both
   * float32 {@code [batch, size]}.
   */
  public record StateSpec(String name, int size) {

    /** Checks that the name is set and the size positive. */
    public StateSpec {
      requireText("states[].name", name);
      requirePositive("states[" + name + "].size", size);
    }

    /** The name of the output that carries this state's next value. */
    public String nextName() {
      return name + "_next";
    }
  }

  /**
   * Golden vectors: inputs {@code x[t]} (raw units) fed one step at a time from zero state, and the
   * outputs {@code y[t]} (raw units) the model must produce. A loader refuses a model whose outputs
   * differ, which catches a wrong export, a wrong gate order or scaling left out.
   *
   * <p>Arrays are compared by content, so two golden vectors with equal numbers are equal.
   *
   * @param x the inputs, {@code [steps][inputSize]}
   * @param y the expected outputs, {@code [steps][outputSize]}; null when still to be computed
   */
  public record GoldenVectors(float[][] x, float[][] y) {

    /** Checks that {@code x} is present and, if {@code y} is, that both have as many steps. */
    public GoldenVectors {
      if (x == null || x.length == 0) {
        throw new IllegalArgumentException("golden vectors need at least one input step");
      }
      if (y != null && y.length != x.length) {
        throw new IllegalArgumentException(
            "golden vectors have " + x.length + " input steps but " + y.length + " output steps");
      }
    }

    /** The number of steps. */
    public int steps() {
      return x.length;
    }

    void checkSizes(int inputSize, int outputSize) {
      for (int t = 0; t < x.length; t++) {
        if (x[t] == null || x[t].length != inputSize) {
          throw new IllegalArgumentException(
              "golden x[" + t + "] must have " + inputSize + " values");
        }
        if (y != null && (y[t] == null || y[t].length != outputSize)) {
          throw new IllegalArgumentException(
              "golden y[" + t + "] must have " + outputSize + " values");
        }
      }
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof GoldenVectors g && Arrays.deepEquals(x, g.x) && Arrays.deepEquals(y, g.y);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.deepHashCode(x) + Arrays.deepHashCode(y);
    }

    @Override
    public String toString() {
      return "GoldenVectors[steps=" + x.length + ", y=" + (y == null ? "pending" : "set") + "]";
    }
  }

  /** A fluent builder, handy for trainers and tests that set a dozen fields. */
  public static final class Builder {
    private int specVersion = CURRENT_SPEC_VERSION;
    private String version;
    private String pipeline;
    private CellType cell;
    private int layers;
    private int hiddenSize;
    private int inputSize;
    private int outputSize = 1;
    private List<String> features;
    private String target;
    private String targetTransform = "none";
    private List<StateSpec> states;
    private int burnIn;
    private Map<String, Double> training = new LinkedHashMap<>();
    private GoldenVectors golden;
    private String createdAt;
    private List<TargetSpec> targets;
    private List<Integer> horizons;

    private Builder() {}

    private Builder(ModelSpec s) {
      specVersion = s.specVersion;
      version = s.version;
      pipeline = s.pipeline;
      cell = s.cell;
      layers = s.layers;
      hiddenSize = s.hiddenSize;
      inputSize = s.inputSize;
      outputSize = s.outputSize;
      features = s.features;
      target = s.target;
      targetTransform = s.targetTransform;
      states = s.states;
      burnIn = s.burnIn;
      training = new LinkedHashMap<>(s.training);
      golden = s.golden;
      createdAt = s.createdAt;
      targets = s.targets;
      horizons = s.horizons;
    }

    /** Sets {@code specVersion}. */
    public Builder specVersion(int v) {
      specVersion = v;
      return this;
    }

    /** Sets {@code version}. */
    public Builder version(String v) {
      version = v;
      return this;
    }

    /** Sets {@code pipeline}. */
    public Builder pipeline(String v) {
      pipeline = v;
      return this;
    }

    /** Sets the cell type and sizes; clears {@code states} so the cell's defaults apply. */
    public Builder network(CellType cellType, int layerCount, int hidden) {
      cell = cellType;
      layers = layerCount;
      hiddenSize = hidden;
      states = null;
      return this;
    }

    /** Sets {@code inputSize} to {@code names.size()} and {@code features} to the names. */
    public Builder features(List<String> names) {
      features = new ArrayList<>(names);
      inputSize = names.size();
      return this;
    }

    /** Sets {@code outputSize}. */
    public Builder outputSize(int v) {
      outputSize = v;
      return this;
    }

    /** Sets {@code target} and {@code targetTransform}. */
    public Builder target(String name, String transform) {
      target = name;
      targetTransform = transform;
      if (targets != null && targets.size() == 1) {
        targets = null;
      }
      return this;
    }

    /**
     * Sets every target (the first is also {@code target}) and the horizons, and {@code outputSize}
     * to their product.
     */
    public Builder outputs(List<TargetSpec> allTargets, List<Integer> allHorizons) {
      targets = List.copyOf(allTargets);
      horizons = List.copyOf(allHorizons);
      target = targets.get(0).name();
      targetTransform = targets.get(0).transform();
      outputSize = targets.size() * horizons.size();
      return this;
    }

    /** Sets explicit state tensors (otherwise the cell's defaults). */
    public Builder states(List<StateSpec> v) {
      states = v;
      return this;
    }

    /** Sets {@code burnIn}. */
    public Builder burnIn(int v) {
      burnIn = v;
      return this;
    }

    /** Adds one training figure. */
    public Builder training(String key, double value) {
      training.put(key, value);
      return this;
    }

    /** Replaces the training figures. */
    public Builder training(Map<String, Double> v) {
      training = new LinkedHashMap<>(v);
      return this;
    }

    /** Sets the golden vectors. */
    public Builder golden(GoldenVectors v) {
      golden = v;
      return this;
    }

    /** Sets {@code createdAt}. */
    public Builder createdAt(String v) {
      createdAt = v;
      return this;
    }

    /** Builds and validates the spec. */
    public ModelSpec build() {
      return new ModelSpec(
          specVersion,
          version,
          pipeline,
          cell,
          layers,
          hiddenSize,
          inputSize,
          outputSize,
          features,
          target,
          targetTransform,
          states,
          burnIn,
          training,
          golden,
          createdAt,
          targets,
          horizons,
          null);
    }
  }
}
