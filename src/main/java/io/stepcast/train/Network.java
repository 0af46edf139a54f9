package io.stepcast.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.internal.NDArrayEx;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.recurrent.RNN;
import io.stepcast.model.CellType;
import io.stepcast.model.RnnWeights;
import java.util.Random;

/**
 * A stacked LSTM, GRU or simple RNN with a linear head, as PyTorch tensors in PyTorch's own layout.
 *
 * <p>The recurrent part is one call of PyTorch's fused {@code torch::lstm} / {@code torch::gru} /
 * {@code torch::rnn_tanh} (through DJL's {@link NDArrayEx}), whose flat weight list is, per layer,
 * {@code w_ih [G*H, in], w_hh [G*H, H], b_ih [G*H], b_hh [G*H]} with gates {@code i,f,g,o}, {@code
 * r,z,n} or the single block of the RNN: exactly {@link RnnWeights}' layout, so extraction is a
 * copy and the exported weights are the ones that ran. The head is {@code torch::linear} with
 * {@code wOut [O, H]}. Inputs are batch-first {@code [B, T, in]}; states are {@code [layers, B,
 * H]}.
 */
final class Network {

  /** Outputs of a forward pass: scaled predictions {@code [B, T, O]} and the next state. */
  record Output(NDArray y, NDList state) {}

  private final CellType cell;
  private final int inputSize;
  private final int hiddenSize;
  private final int layers;
  private final int outputSize;
  private final NDList rnnParams;
  private final NDArray wOut;
  private final NDArray bOut;

  private Network(
      CellType cell,
      int inputSize,
      int hiddenSize,
      int layers,
      int outputSize,
      NDList rnnParams,
      NDArray wOut,
      NDArray bOut) {
    this.cell = cell;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.layers = layers;
    this.outputSize = outputSize;
    this.rnnParams = rnnParams;
    this.wOut = wOut;
    this.bOut = bOut;
  }

  /**
   * New trainable weights, drawn like PyTorch's defaults ({@code nn.LSTM}, {@code nn.GRU}, {@code
   * nn.RNN} and {@code nn.Linear} all use {@code U(-1/sqrt(H), 1/sqrt(H))}), from a Java generator
   * so the same seed gives the same start on any engine.
   */
  static Network initialize(
      NDManager manager,
      CellType cell,
      int inputSize,
      int hiddenSize,
      int layers,
      int outputSize,
      long seed) {
    Random random = new Random(seed);
    float bound = (float) (1.0 / Math.sqrt(hiddenSize));
    int g = cell.gates() * hiddenSize;
    NDList params = new NDList();
    for (int l = 0; l < layers; l++) {
      int in = l == 0 ? inputSize : hiddenSize;
      params.add(uniform(manager, random, bound, g, in));
      params.add(uniform(manager, random, bound, g, hiddenSize));
      params.add(uniform(manager, random, bound, g));
      params.add(uniform(manager, random, bound, g));
    }
    NDArray w = uniform(manager, random, bound, outputSize, hiddenSize);
    NDArray b = uniform(manager, random, bound, outputSize);
    Network net = new Network(cell, inputSize, hiddenSize, layers, outputSize, params, w, b);
    for (NDArray p : net.parameters()) {
      p.setRequiresGradient(true);
    }
    return net;
  }

  /** Fixed weights for inference, copied from {@code w}. */
  static Network of(NDManager manager, RnnWeights w) {
    int g = w.cell().gates() * w.hiddenSize();
    NDList params = new NDList();
    for (int l = 0; l < w.layers(); l++) {
      int in = l == 0 ? w.inputSize() : w.hiddenSize();
      params.add(tensor(manager, w.wIh()[l], new Shape(g, in)));
      params.add(tensor(manager, w.wHh()[l], new Shape(g, w.hiddenSize())));
      params.add(tensor(manager, w.bIh()[l], new Shape(g)));
      params.add(tensor(manager, w.bHh()[l], new Shape(g)));
    }
    NDArray wOut = tensor(manager, w.wOut(), new Shape(w.outputSize(), w.hiddenSize()));
    NDArray bOut = tensor(manager, w.bOut(), new Shape(w.outputSize()));
    return new Network(
        w.cell(), w.inputSize(), w.hiddenSize(), w.layers(), w.outputSize(), params, wOut, bOut);
  }

  private static NDArray uniform(NDManager manager, Random random, float bound, long... shape) {
    Shape s = new Shape(shape);
    float[] values = new float[Math.toIntExact(s.size())];
    for (int i = 0; i < values.length; i++) {
      values[i] = (random.nextFloat() * 2f - 1f) * bound;
    }
    return tensor(manager, values, s);
  }

  /**
   * A tensor holding {@code values} in memory PyTorch allocated itself.
   *
   * <p>{@code NDManager.create(float[])} wraps a Java direct buffer, whose address is only 16-byte
   * aligned and differs from run to run. PyTorch's CPU build runs its matrix products on MKL, which
   * picks kernels (and so the order of the sums) by the operands' alignment: the same seed then
   * gave weights that differed in the last bits between runs, and training, being chaotic, turned
   * that into different models (and once in seven runs into a divergence). A copy made by PyTorch
   * is 64-byte aligned, every time.
   */
  static NDArray tensor(NDManager manager, float[] values, Shape shape) {
    try (NDArray wrapped = manager.create(values, shape)) {
      return wrapped.duplicate();
    }
  }

  int inputSize() {
    return inputSize;
  }

  int outputSize() {
    return outputSize;
  }

  /**
   * Every parameter, in {@link RnnWeights} order: per layer wIh, wHh, bIh, bHh; then wOut, bOut.
   */
  NDList parameters() {
    NDList all = new NDList(rnnParams);
    all.add(wOut);
    all.add(bOut);
    return all;
  }

  /** A zero state for {@code batch} series, owned by {@code manager}. */
  NDList zeroState(NDManager manager, int batch) {
    NDList state = new NDList();
    for (int i = 0; i < cell.stateTensors(); i++) {
      state.add(manager.zeros(new Shape(layers, batch, hiddenSize)));
    }
    return state;
  }

  /**
   * Runs the network over {@code x [B, T, in]} (scaled) from {@code state}. The results belong to
   * {@code x}'s manager. {@code dropout} applies between layers, only when {@code training}.
   */
  Output forward(NDArray x, NDList state, double dropout, boolean training) {
    NDArrayEx ex = x.getNDArrayInternal();
    NDList out;
    switch (cell) {
      case LSTM:
        out = ex.lstm(x, state, rnnParams, true, layers, dropout, training, false, true);
        break;
      case GRU:
        out =
            ex.gru(
                x,
                state.singletonOrThrow(),
                rnnParams,
                true,
                layers,
                dropout,
                training,
                false,
                true);
        break;
      case RNN:
      default:
        out =
            ex.rnn(
                x,
                state.singletonOrThrow(),
                rnnParams,
                true,
                layers,
                RNN.Activation.TANH,
                dropout,
                training,
                false,
                true);
        break;
    }
    NDArray y = Linear.linear(out.get(0), wOut, bOut).singletonOrThrow();
    return new Output(y, new NDList(out.subList(1, out.size())));
  }

  /** Copies every parameter to the heap, in {@link #parameters()} order. */
  float[][] snapshot() {
    NDList params = parameters();
    float[][] copy = new float[params.size()][];
    for (int i = 0; i < copy.length; i++) {
      copy[i] = params.get(i).toFloatArray();
    }
    return copy;
  }

  /** Wraps a {@link #snapshot()} and the scaling as {@link RnnWeights}. */
  RnnWeights toWeights(float[][] snapshot, Scaling scaling) {
    float[][] wIh = new float[layers][];
    float[][] wHh = new float[layers][];
    float[][] bIh = new float[layers][];
    float[][] bHh = new float[layers][];
    for (int l = 0; l < layers; l++) {
      wIh[l] = snapshot[4 * l];
      wHh[l] = snapshot[4 * l + 1];
      bIh[l] = snapshot[4 * l + 2];
      bHh[l] = snapshot[4 * l + 3];
    }
    return new RnnWeights(
        cell,
        inputSize,
        hiddenSize,
        layers,
        outputSize,
        wIh,
        wHh,
        bIh,
        bHh,
        snapshot[4 * layers],
        snapshot[4 * layers + 1],
        scaling.xMean().clone(),
        scaling.xStd().clone(),
        scaling.yMean().clone(),
        scaling.yStd().clone());
  }
}
