package io.stepcast.train;

import io.stepcast.model.CellType;
import io.stepcast.model.RnnWeights;

/**
 * An independent plain-Java LSTM/GRU/RNN, written from PyTorch's documented equations, in double
 * precision: the reference the trainer's DJL forward pass and extracted weights are checked
 * against.
 *
 * <p>LSTM: {@code i,f,o = sigmoid(W_i* x + b_i* + W_h* h + b_h*)}, {@code g = tanh(...)}, {@code c'
 * = f c + i g}, {@code h' = o tanh(c')}. GRU: {@code r,z = sigmoid(...)}, {@code n = tanh(W_in x +
 * b_in + r (W_hn h + b_hn))}, {@code h' = (1 - z) n + z h}. RNN: {@code h' = tanh(W_ih x + b_ih +
 * W_hh h + b_hh)}. Gate blocks are stacked in that order along the rows of row-major {@code
 * [gates*H, in]} matrices.
 */
final class PlainRnnReference {

  private PlainRnnReference() {}

  /** Runs {@code w} over {@code x} (raw units) from a zero state; returns raw-unit outputs. */
  static float[][] run(RnnWeights w, float[][] x) {
    int hSize = w.hiddenSize();
    double[][] h = new double[w.layers()][hSize];
    double[][] c = new double[w.layers()][hSize];
    float[][] out = new float[x.length][w.outputSize()];
    for (int t = 0; t < x.length; t++) {
      double[] input = new double[w.inputSize()];
      for (int j = 0; j < input.length; j++) {
        input[j] = (x[t][j] - w.xMean()[j]) / (double) w.xStd()[j];
      }
      for (int l = 0; l < w.layers(); l++) {
        double[] gi = affine(w.wIh()[l], w.bIh()[l], input);
        double[] gh = affine(w.wHh()[l], w.bHh()[l], h[l]);
        if (w.cell() == CellType.LSTM) {
          for (int k = 0; k < hSize; k++) {
            double i = sigmoid(gi[k] + gh[k]);
            double f = sigmoid(gi[hSize + k] + gh[hSize + k]);
            double g = Math.tanh(gi[2 * hSize + k] + gh[2 * hSize + k]);
            double o = sigmoid(gi[3 * hSize + k] + gh[3 * hSize + k]);
            c[l][k] = f * c[l][k] + i * g;
            h[l][k] = o * Math.tanh(c[l][k]);
          }
        } else if (w.cell() == CellType.RNN) {
          for (int k = 0; k < hSize; k++) {
            h[l][k] = Math.tanh(gi[k] + gh[k]);
          }
        } else {
          double[] next = new double[hSize];
          for (int k = 0; k < hSize; k++) {
            double r = sigmoid(gi[k] + gh[k]);
            double z = sigmoid(gi[hSize + k] + gh[hSize + k]);
            double n = Math.tanh(gi[2 * hSize + k] + r * gh[2 * hSize + k]);
            next[k] = (1 - z) * n + z * h[l][k];
          }
          h[l] = next;
        }
        input = h[l].clone();
      }
      double[] y = affine(w.wOut(), w.bOut(), input);
      for (int j = 0; j < y.length; j++) {
        out[t][j] = (float) (y[j] * w.yStd()[j] + w.yMean()[j]);
      }
    }
    return out;
  }

  /** {@code W v + b} for row-major {@code W [b.length, v.length]}. */
  private static double[] affine(float[] weight, float[] bias, double[] v) {
    double[] out = new double[bias.length];
    for (int r = 0; r < out.length; r++) {
      double sum = bias[r];
      for (int col = 0; col < v.length; col++) {
        sum += weight[r * v.length + col] * v[col];
      }
      out[r] = sum;
    }
    return out;
  }

  private static double sigmoid(double v) {
    return 1.0 / (1.0 + Math.exp(-v));
  }
}
