package io.stepcast.model;

import java.util.Objects;

/**
 * A plain-Java LSTM/GRU/RNN step on {@link RnnWeights}, written from PyTorch's documented equations
 * and computed in double precision. It is the numeric reference for the ONNX step model: the
 * builder uses it to compute golden vectors, and tests compare ONNX Runtime's output against it.
 *
 * <p>It is deliberately independent of {@link StepModelBuilder}: it reads the weights in PyTorch's
 * gate order and never reorders them, so a gate-order or scaling mistake in the graph shows up as a
 * mismatch instead of being reproduced.
 *
 * <p>Equations (PyTorch {@code nn.LSTM}, {@code nn.GRU}, {@code nn.RNN} with tanh), per layer, with
 * {@code x} the layer input and {@code h, c} its previous state:
 *
 * <pre>
 * LSTM: i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)    GRU: r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 *       f = sigmoid(W_if x + b_if + W_hf h + b_hf)         z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *       g = tanh   (W_ig x + b_ig + W_hg h + b_hg)         n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 *       o = sigmoid(W_io x + b_io + W_ho h + b_ho)         h' = (1 - z) * n + z * h
 *       c' = f * c + i * g
 *       h' = o * tanh(c')
 * RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
 * </pre>
 *
 * <p>The input is standardised first, {@code (x - xMean) / xStd}, and the head's output mapped
 * back, {@code y = (wOut h_top + bOut) * yStd + yMean}. State is rounded to float after every step,
 * as a stored state is. Immutable and thread-safe; callers own their state arrays.
 */
public final class ReferenceRnn {

  private final RnnWeights w;

  /** A reference network over {@code weights}. */
  public ReferenceRnn(RnnWeights weights) {
    this.w = Objects.requireNonNull(weights, "weights");
  }

  /**
   * Fresh zero state: {@code [h, c]} for LSTM, {@code [h]} for GRU and RNN, each {@code layers *
   * H}.
   */
  public float[][] zeroState() {
    float[][] s = new float[w.cell().stateTensors()][];
    for (int i = 0; i < s.length; i++) {
      s[i] = new float[w.stateSize()];
    }
    return s;
  }

  /**
   * Advances one step: reads the raw input {@code x}, updates {@code states} in place and returns
   * the raw output.
   */
  public float[] step(float[] x, float[][] states) {
    if (x.length != w.inputSize()) {
      throw new IllegalArgumentException(
          "x has " + x.length + " values, expected " + w.inputSize());
    }
    int hidden = w.hiddenSize();
    double[] in = new double[x.length];
    for (int j = 0; j < x.length; j++) {
      in[j] = ((double) x[j] - w.xMean()[j]) / w.xStd()[j];
    }
    for (int l = 0; l < w.layers(); l++) {
      double[] h = slice(states[0], l * hidden, hidden);
      double[] hNew;
      if (w.cell() == CellType.LSTM) {
        double[] c = slice(states[1], l * hidden, hidden);
        double[] cNew = new double[hidden];
        hNew = lstmLayer(l, in, h, c, cNew);
        store(cNew, states[1], l * hidden);
      } else if (w.cell() == CellType.GRU) {
        hNew = gruLayer(l, in, h);
      } else {
        hNew = rnnLayer(l, in, h);
      }
      store(hNew, states[0], l * hidden);
      in = hNew;
    }
    float[] y = new float[w.outputSize()];
    for (int k = 0; k < y.length; k++) {
      double acc = w.bOut()[k];
      for (int j = 0; j < hidden; j++) {
        acc += (double) w.wOut()[k * hidden + j] * in[j];
      }
      y[k] = (float) (acc * w.yStd()[k] + w.yMean()[k]);
    }
    return y;
  }

  /** Runs a whole sequence of raw inputs from zero state; returns the output of every step. */
  public float[][] run(float[][] xs) {
    float[][] states = zeroState();
    float[][] ys = new float[xs.length][];
    for (int t = 0; t < xs.length; t++) {
      ys[t] = step(xs[t], states);
    }
    return ys;
  }

  private double[] lstmLayer(int l, double[] x, double[] h, double[] c, double[] cOut) {
    int hidden = w.hiddenSize();
    double[] hOut = new double[hidden];
    for (int j = 0; j < hidden; j++) {
      // PyTorch stacks the gate rows as i, f, g, o.
      double i = sigmoid(preActivation(l, 0 * hidden + j, x, h));
      double f = sigmoid(preActivation(l, 1 * hidden + j, x, h));
      double g = Math.tanh(preActivation(l, 2 * hidden + j, x, h));
      double o = sigmoid(preActivation(l, 3 * hidden + j, x, h));
      cOut[j] = f * c[j] + i * g;
      hOut[j] = o * Math.tanh(cOut[j]);
    }
    return hOut;
  }

  private double[] gruLayer(int l, double[] x, double[] h) {
    int hidden = w.hiddenSize();
    double[] hOut = new double[hidden];
    for (int j = 0; j < hidden; j++) {
      // PyTorch stacks the gate rows as r, z, n.
      double r = sigmoid(preActivation(l, j, x, h));
      double z = sigmoid(preActivation(l, hidden + j, x, h));
      int row = 2 * hidden + j;
      double n = Math.tanh(inputPart(l, row, x) + r * hiddenPart(l, row, h));
      hOut[j] = (1 - z) * n + z * h[j];
    }
    return hOut;
  }

  private double[] rnnLayer(int l, double[] x, double[] h) {
    double[] hOut = new double[w.hiddenSize()];
    for (int j = 0; j < hOut.length; j++) {
      hOut[j] = Math.tanh(preActivation(l, j, x, h));
    }
    return hOut;
  }

  private double preActivation(int l, int row, double[] x, double[] h) {
    return inputPart(l, row, x) + hiddenPart(l, row, h);
  }

  /** {@code W_ih[row] . x + b_ih[row]}. */
  private double inputPart(int l, int row, double[] x) {
    float[] wIh = w.wIh()[l];
    double acc = w.bIh()[l][row];
    int off = row * x.length;
    for (int k = 0; k < x.length; k++) {
      acc += (double) wIh[off + k] * x[k];
    }
    return acc;
  }

  /** {@code W_hh[row] . h + b_hh[row]}. */
  private double hiddenPart(int l, int row, double[] h) {
    float[] wHh = w.wHh()[l];
    double acc = w.bHh()[l][row];
    int off = row * h.length;
    for (int k = 0; k < h.length; k++) {
      acc += (double) wHh[off + k] * h[k];
    }
    return acc;
  }

  private static double sigmoid(double v) {
    return 1.0 / (1.0 + Math.exp(-v));
  }

  private static double[] slice(float[] src, int from, int len) {
    double[] out = new double[len];
    for (int i = 0; i < len; i++) {
      out[i] = src[from + i];
    }
    return out;
  }

  private static void store(double[] src, float[] dst, int from) {
    for (int i = 0; i < src.length; i++) {
      dst[from + i] = (float) src[i];
    }
  }
}
