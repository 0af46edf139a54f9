package io.stepcast.model;

import io.stepcast.model.onnx.OnnxProto.GraphProto;
import io.stepcast.model.onnx.OnnxProto.ModelProto;
import io.stepcast.model.onnx.OnnxProto.NodeProto;
import io.stepcast.model.onnx.OnnxProto.TensorProto;
import io.stepcast.model.onnx.OnnxProto.TensorShapeProto;
import io.stepcast.model.onnx.OnnxProto.TypeProto;
import io.stepcast.model.onnx.OnnxProto.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes the sequence graph of a step model: the same network and weights run over a whole window
 * of inputs from a zero state, as the windowed design (keep the last W events per series, re-run
 * the network over them for every event) does. The benchmark compares stepcast against it.
 *
 * <p>Input {@code x}: float32 {@code [seq, batch, inputSize]} in raw units, oldest step first
 * ({@code seq} and {@code batch} are symbolic). Output {@code y}: float32 {@code [batch,
 * outputSize]}, the head's output after the last step, in raw units: what the step model's {@code
 * y} is after stepping the same inputs from a zero state.
 *
 * <p>It is derived from the step graph {@link StepModelBuilder} writes, so the weights (gate order,
 * folded scaling) are converted by one piece of code: it keeps the step graph's initializers,
 * copies each recurrent node ({@code LSTM}/{@code GRU}, attributes included) without its initial
 * state inputs (ONNX then starts from zero) and over the whole sequence, feeds each layer's full
 * output sequence to the next layer, and puts the step graph's head ({@code Gemm} and what follows
 * it) on the top layer's last hidden state.
 */
public final class SequenceModelBuilder {
  private static final Set<String> RECURRENT = Set.of("LSTM", "GRU", "RNN");
  private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;

  private SequenceModelBuilder() {}

  /**
   * Builds the sequence model for {@code w}; {@code spec} describes it as for {@link
   * StepModelBuilder#build(RnnWeights, ModelSpec)} (it is stored in the metadata unchanged).
   *
   * @return the serialized {@code ModelProto}
   */
  public static byte[] build(RnnWeights w, ModelSpec spec) {
    ModelProto step = StepModelBuilder.buildProto(w, spec);
    GraphProto in = step.getGraph();
    GraphProto.Builder g = GraphProto.newBuilder().setName("stepcast_" + w.cell().id() + "_seq");
    g.addInput(valueInfo("x", "seq", "batch", w.inputSize()));
    g.addOutput(valueInfo("y", null, "batch", w.outputSize()));

    node(g, "Sub", "scale_x_sub", List.of("x", "x_mean"), List.of("x_centered"));
    node(g, "Div", "scale_x_div", List.of("x_centered", "x_std"), List.of("x_scaled"));
    List<NodeProto> nodes = in.getNodeList();
    String layerInput = "x_scaled";
    String lastHidden = null;
    int layer = 0;
    int head = -1;
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto n = nodes.get(i);
      if (n.getOpType().equals("Gemm")) {
        head = i;
        break;
      }
      if (!RECURRENT.contains(n.getOpType())) {
        continue;
      }
      if (layerInput == null) {
        // The previous layer's Y is [seq, num_directions=1, batch, H]: drop the direction axis.
        String seq = "layer" + (layer - 1) + "_y_seq";
        node(
            g,
            "Squeeze",
            "squeeze_layer" + (layer - 1) + "_y",
            List.of("layer" + (layer - 1) + "_y", "axes_1"),
            List.of(seq));
        layerInput = seq;
      }
      String y = "layer" + layer + "_y";
      lastHidden = "layer" + layer + "_y_h";
      g.addNode(
          n.toBuilder()
              .clearInput()
              .addInput(layerInput)
              .addAllInput(n.getInputList().subList(1, 4))
              .clearOutput()
              .addOutput(y)
              .addOutput(lastHidden)
              .setName(n.getName() + "_seq"));
      layerInput = null;
      layer++;
    }
    if (layer == 0 || head < 0) {
      throw new IllegalStateException("the step graph has no recurrent layer or no Gemm head");
    }
    node(g, "Squeeze", "squeeze_top_h", List.of(lastHidden, "axes_0"), List.of("top_h"));
    NodeProto gemm = nodes.get(head);
    g.addNode(gemm.toBuilder().setInput(0, "top_h"));
    for (int i = head + 1; i < nodes.size(); i++) {
      g.addNode(nodes.get(i));
    }
    Set<String> used = new HashSet<>();
    for (NodeProto n : g.getNodeList()) {
      used.addAll(n.getInputList());
    }
    for (TensorProto t : in.getInitializerList()) {
      if (used.contains(t.getName())) {
        g.addInitializer(t);
      }
    }
    return step.toBuilder()
        .setGraph(g)
        .setDocString(step.getDocString().replace(" step model", " sequence model"))
        .build()
        .toByteArray();
  }

  private static void node(
      GraphProto.Builder g, String op, String name, List<String> in, List<String> out) {
    g.addNodeBuilder().setOpType(op).setName(name).addAllInput(in).addAllOutput(out);
  }

  /** A float tensor's value info; a null {@code first} leaves that dimension out. */
  private static ValueInfoProto valueInfo(String name, String first, String second, int last) {
    List<TensorShapeProto.Dimension> dims = new ArrayList<>();
    if (first != null) {
      dims.add(TensorShapeProto.Dimension.newBuilder().setDimParam(first).build());
    }
    dims.add(TensorShapeProto.Dimension.newBuilder().setDimParam(second).build());
    dims.add(TensorShapeProto.Dimension.newBuilder().setDimValue(last).build());
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(FLOAT)
                        .setShape(TensorShapeProto.newBuilder().addAllDim(dims))))
        .build();
  }
}
