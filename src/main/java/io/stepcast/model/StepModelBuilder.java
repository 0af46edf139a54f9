package io.stepcast.model;

import io.stepcast.model.ModelSpec.GoldenVectors;
import io.stepcast.model.onnx.OnnxProto.AttributeProto;
import io.stepcast.model.onnx.OnnxProto.GraphProto;
import io.stepcast.model.onnx.OnnxProto.ModelProto;
import io.stepcast.model.onnx.OnnxProto.NodeProto;
import io.stepcast.model.onnx.OnnxProto.OperatorSetIdProto;
import io.stepcast.model.onnx.OnnxProto.StringStringEntryProto;
import io.stepcast.model.onnx.OnnxProto.TensorProto;
import io.stepcast.model.onnx.OnnxProto.TensorShapeProto;
import io.stepcast.model.onnx.OnnxProto.TypeProto;
import io.stepcast.model.onnx.OnnxProto.ValueInfoProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Writes the ONNX step model for a set of {@link RnnWeights}: one timestep of a stacked LSTM, GRU
 * or simple RNN with a linear head, with the input and output scaling folded into the graph, and
 * the {@link ModelSpec} (with golden vectors) in the model's metadata.
 *
 * <p>The graph follows the step-model contract: input {@code x} float32 {@code [batch, inputSize]}
 * in raw units; state inputs {@code h} (and {@code c} for LSTM) float32 {@code [batch, layers *
 * H]}, layer {@code l} in columns {@code l*H .. (l+1)*H}; outputs {@code y} float32 {@code [batch,
 * outputSize]} in raw units and {@code h_next} (and {@code c_next}) of the state's shape. {@code
 * batch} is a symbolic dimension.
 *
 * <p>Inside: {@code Sub}/{@code Div} standardise {@code x}; per layer a {@code Slice} of the state
 * feeds ONNX's own {@code LSTM}/{@code GRU}/{@code RNN} (tanh) operator over a sequence of length
 * one; the layers' final states are concatenated into the next state; a {@code Gemm} head is
 * followed by {@code Mul}/{@code Add} back to raw units. Using the standard recurrent operators
 * (rather than spelling the gates out in MatMuls) lets ONNX Runtime run its fused kernels.
 *
 * <p>PyTorch and ONNX order the gate blocks differently; this class converts: LSTM PyTorch {@code
 * i,f,g,o} to ONNX {@code i,o,f,c}; GRU PyTorch {@code r,z,n} to ONNX {@code z,r,h} with {@code
 * linear_before_reset=1}, which is PyTorch's GRU. The RNN has one block and the same equation in
 * both ({@code h' = tanh(W x + Wb + R h + Rb)}), so nothing moves.
 */
public final class StepModelBuilder {

  /** The ONNX operator set the graph is written against. */
  public static final int OPSET = 17;

  /** The ONNX IR version written (IR 8 goes with opset 17). */
  public static final long IR_VERSION = 8;

  /** Steps in the generated golden sequence when the spec brings none. */
  public static final int DEFAULT_GOLDEN_STEPS = 8;

  /** Seed of the generated golden sequence: fixed, so a rebuild writes the same bytes. */
  public static final long GOLDEN_SEED = 0x5EED_5EEDL;

  /** The value of {@code producer_name}. */
  public static final String PRODUCER = "stepcast";

  private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
  private static final int INT64 = TensorProto.DataType.INT64_VALUE;

  /** PyTorch gate block for each ONNX gate block, LSTM: ONNX i,o,f,c from PyTorch i,f,g,o. */
  private static final int[] LSTM_ONNX_FROM_TORCH = {0, 3, 1, 2};

  /** PyTorch gate block for each ONNX gate block, GRU: ONNX z,r,h from PyTorch r,z,n. */
  private static final int[] GRU_ONNX_FROM_TORCH = {1, 0, 2};

  /** The RNN's single block. */
  private static final int[] RNN_ONNX_FROM_TORCH = {0};

  private StepModelBuilder() {}

  /**
   * Builds the ONNX step model.
   *
   * <p>Golden vectors: if {@code spec.golden()} has inputs and outputs they are written as given
   * (for example the outputs PyTorch computed); if it has inputs only, the outputs are computed
   * with {@link ReferenceRnn}; if it is null, a deterministic {@value #DEFAULT_GOLDEN_STEPS}-step
   * input sequence around {@code xMean} is generated first.
   *
   * @return the serialized {@code ModelProto}
   * @throws IllegalArgumentException if the spec does not describe these weights
   */
  public static byte[] build(RnnWeights w, ModelSpec spec) {
    return buildProto(w, spec).toByteArray();
  }

  /** Builds the step model with golden inputs {@code goldenInputs}; outputs are computed. */
  public static byte[] build(RnnWeights w, ModelSpec spec, float[][] goldenInputs) {
    return build(w, spec.withGolden(new GoldenVectors(goldenInputs, null)));
  }

  /** As {@link #build(RnnWeights, ModelSpec)}, returning the message instead of its bytes. */
  public static ModelProto buildProto(RnnWeights w, ModelSpec spec) {
    checkMatches(w, spec);
    ModelSpec complete = spec.withGolden(completeGolden(w, spec.golden()));
    ModelProto.Builder model =
        ModelProto.newBuilder()
            .setIrVersion(IR_VERSION)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
            .setProducerName(PRODUCER)
            .setProducerVersion(producerVersion())
            .setDomain("io.stepcast")
            .setDocString(
                "stepcast "
                    + w.cell().id()
                    + " step model, version "
                    + complete.version()
                    + ", pipeline "
                    + complete.pipeline())
            .setGraph(new GraphWriter(w).write())
            .addMetadataProps(entry(ModelSpec.METADATA_KEY, complete.toJson()));
    Long numericVersion = numericVersion(complete.version());
    if (numericVersion != null) {
      model.setModelVersion(numericVersion);
    }
    return model.build();
  }

  /** The golden vectors to write: {@code golden} with its outputs computed if missing. */
  static GoldenVectors completeGolden(RnnWeights w, GoldenVectors golden) {
    float[][] x = golden == null ? generateInputs(w, DEFAULT_GOLDEN_STEPS) : golden.x();
    if (golden != null && golden.y() != null) {
      return golden;
    }
    return new GoldenVectors(x, new ReferenceRnn(w).run(x));
  }

  /** A seeded input sequence in raw units: {@code xMean + xStd * N(0, 1)} per feature. */
  static float[][] generateInputs(RnnWeights w, int steps) {
    Random random = new Random(GOLDEN_SEED);
    float[][] x = new float[steps][w.inputSize()];
    for (int t = 0; t < steps; t++) {
      for (int j = 0; j < w.inputSize(); j++) {
        x[t][j] = (float) (w.xMean()[j] + w.xStd()[j] * random.nextGaussian());
      }
    }
    return x;
  }

  private static void checkMatches(RnnWeights w, ModelSpec s) {
    List<String> problems = new ArrayList<>();
    if (w.cell() != s.cell()) {
      problems.add("cell " + s.cell().id() + " vs weights " + w.cell().id());
    }
    compare(problems, "layers", s.layers(), w.layers());
    compare(problems, "hiddenSize", s.hiddenSize(), w.hiddenSize());
    compare(problems, "inputSize", s.inputSize(), w.inputSize());
    compare(problems, "outputSize", s.outputSize(), w.outputSize());
    if (problems.isEmpty()
        && !s.states().equals(ModelSpec.defaultStates(w.cell(), w.layers(), w.hiddenSize()))) {
      problems.add(
          "states "
              + s.states()
              + " vs the builder's "
              + ModelSpec.defaultStates(w.cell(), w.layers(), w.hiddenSize()));
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "model spec does not describe the weights: " + String.join("; ", problems));
    }
  }

  private static void compare(List<String> problems, String field, int spec, int weights) {
    if (spec != weights) {
      problems.add(field + " " + spec + " vs weights " + weights);
    }
  }

  private static Long numericVersion(String version) {
    try {
      return Long.parseLong(version.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String producerVersion() {
    String v = StepModelBuilder.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  private static StringStringEntryProto entry(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  /** Writes the nodes and initializers of one graph. */
  private static final class GraphWriter {
    private final RnnWeights w;
    private final GraphProto.Builder graph = GraphProto.newBuilder();

    GraphWriter(RnnWeights w) {
      this.w = w;
    }

    GraphProto write() {
      int hidden = w.hiddenSize();
      boolean lstm = w.cell() == CellType.LSTM;
      graph.setName("stepcast_" + w.cell().id() + "_step");
      graph.addInput(valueInfo("x", w.inputSize()));
      graph.addInput(valueInfo("h", w.stateSize()));
      if (lstm) {
        graph.addInput(valueInfo("c", w.stateSize()));
      }
      graph.addOutput(valueInfo("y", w.outputSize()));
      graph.addOutput(valueInfo("h_next", w.stateSize()));
      if (lstm) {
        graph.addOutput(valueInfo("c_next", w.stateSize()));
      }

      floats("x_mean", w.xMean(), w.inputSize());
      floats("x_std", w.xStd(), w.inputSize());
      longs("axes_0", 0);
      longs("axes_1", 1);
      node("Sub", "scale_x_sub", List.of("x", "x_mean"), List.of("x_centered"));
      node("Div", "scale_x_div", List.of("x_centered", "x_std"), List.of("x_scaled"));
      node("Unsqueeze", "x_to_sequence", List.of("x_scaled", "axes_0"), List.of("x_seq"));

      String layerInput = "x_seq";
      List<String> hOut = new ArrayList<>();
      List<String> cOut = new ArrayList<>();
      for (int l = 0; l < w.layers(); l++) {
        longs("state_start_" + l, (long) l * hidden);
        longs("state_end_" + l, (long) (l + 1) * hidden);
        String h0 = stateOfLayer("h", l);
        String c0 = lstm ? stateOfLayer("c", l) : null;
        int inputSize = l == 0 ? w.inputSize() : hidden;
        int[] order =
            lstm
                ? LSTM_ONNX_FROM_TORCH
                : w.cell() == CellType.GRU ? GRU_ONNX_FROM_TORCH : RNN_ONNX_FROM_TORCH;
        floats(
            "W_" + l,
            reorder(w.wIh()[l], order, hidden * inputSize),
            1,
            order.length * hidden,
            inputSize);
        floats(
            "R_" + l,
            reorder(w.wHh()[l], order, hidden * hidden),
            1,
            order.length * hidden,
            hidden);
        float[] wb = reorder(w.bIh()[l], order, hidden);
        float[] rb = reorder(w.bHh()[l], order, hidden);
        float[] bias = new float[wb.length + rb.length];
        System.arraycopy(wb, 0, bias, 0, wb.length);
        System.arraycopy(rb, 0, bias, wb.length, rb.length);
        floats("B_" + l, bias, 1, bias.length);

        String yh = "layer" + l + "_h_last";
        List<String> inputs = new ArrayList<>(List.of(layerInput, "W_" + l, "R_" + l, "B_" + l));
        // Optional inputs are skipped with an empty name: no sequence_lens (every batch row has
        // the one step), then the initial states.
        inputs.add("");
        inputs.add(h0);
        NodeProto.Builder rnn;
        if (lstm) {
          inputs.add(c0);
          String yc = "layer" + l + "_c_last";
          rnn = node("LSTM", "lstm_" + l, inputs, List.of("", yh, yc));
          squeeze(yc, "layer" + l + "_c_next");
          cOut.add("layer" + l + "_c_next");
        } else if (w.cell() == CellType.GRU) {
          rnn = node("GRU", "gru_" + l, inputs, List.of("", yh));
          rnn.addAttribute(intAttr("linear_before_reset", 1));
        } else {
          // The operator's default activation is Tanh, PyTorch's nn.RNN default.
          rnn = node("RNN", "rnn_" + l, inputs, List.of("", yh));
        }
        rnn.addAttribute(intAttr("hidden_size", hidden));
        squeeze(yh, "layer" + l + "_h_next");
        hOut.add("layer" + l + "_h_next");
        // Y_h is [num_directions=1, batch, H]: with one step it is also a valid [seq_len=1,
        // batch, H] input for the next layer, which saves a Squeeze/Unsqueeze pair.
        layerInput = yh;
      }
      node("Concat", "concat_h_next", hOut, List.of("h_next")).addAttribute(intAttr("axis", 1));
      if (lstm) {
        node("Concat", "concat_c_next", cOut, List.of("c_next")).addAttribute(intAttr("axis", 1));
      }

      floats("head_W", w.wOut(), w.outputSize(), hidden);
      floats("head_b", w.bOut(), w.outputSize());
      floats("y_std", w.yStd(), w.outputSize());
      floats("y_mean", w.yMean(), w.outputSize());
      node(
              "Gemm",
              "head",
              List.of(hOut.get(hOut.size() - 1), "head_W", "head_b"),
              List.of("y_scaled"))
          .addAttribute(intAttr("transB", 1));
      node("Mul", "unscale_y_mul", List.of("y_scaled", "y_std"), List.of("y_times_std"));
      node("Add", "unscale_y_add", List.of("y_times_std", "y_mean"), List.of("y"));
      return graph.build();
    }

    /** Slices layer {@code l}'s columns out of state {@code name} as a {@code [1, B, H]}. */
    private String stateOfLayer(String name, int l) {
      String sliced = name + "_layer" + l;
      String seq = name + "0_layer" + l;
      node(
          "Slice",
          "slice_" + name + "_" + l,
          List.of(name, "state_start_" + l, "state_end_" + l, "axes_1"),
          List.of(sliced));
      node("Unsqueeze", "unsqueeze_" + name + "_" + l, List.of(sliced, "axes_0"), List.of(seq));
      return seq;
    }

    private void squeeze(String in, String out) {
      node("Squeeze", "squeeze_" + out, List.of(in, "axes_0"), List.of(out));
    }

    private NodeProto.Builder node(String op, String name, List<String> in, List<String> out) {
      return graph.addNodeBuilder().setOpType(op).setName(name).addAllInput(in).addAllOutput(out);
    }

    private void floats(String name, float[] values, long... dims) {
      TensorProto.Builder t = graph.addInitializerBuilder().setName(name).setDataType(FLOAT);
      for (long d : dims) {
        t.addDims(d);
      }
      for (float v : values) {
        t.addFloatData(v);
      }
    }

    private void longs(String name, long value) {
      graph.addInitializerBuilder().setName(name).setDataType(INT64).addDims(1).addInt64Data(value);
    }
  }

  /**
   * Reorders the gate blocks of a PyTorch tensor: ONNX block {@code k} is PyTorch block {@code
   * order[k]}, each block {@code blockSize} values long (rows of a row-major matrix stay whole).
   */
  static float[] reorder(float[] torch, int[] order, int blockSize) {
    float[] out = new float[torch.length];
    for (int k = 0; k < order.length; k++) {
      System.arraycopy(torch, order[k] * blockSize, out, k * blockSize, blockSize);
    }
    return out;
  }

  private static AttributeProto intAttr(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  private static ValueInfoProto valueInfo(String name, int columns) {
    TensorShapeProto shape =
        TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(columns))
            .build();
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(FLOAT).setShape(shape)))
        .build();
  }
}
