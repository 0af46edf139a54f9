package io.stepcast.model;

import java.util.Objects;

/**
 * The weights of a stacked LSTM or GRU with a linear head, in PyTorch's layout, plus the scaling
 * that the step model folds into its graph.
 *
 * <p>PyTorch layout, row-major: for layer {@code l}, {@code wIh[l]} is {@code [gates*H, in_l]}
 * (in_0 = inputSize, otherwise H), {@code wHh[l]} is {@code [gates*H, H]}, {@code bIh[l]} and
 * {@code bHh[l]} are {@code [gates*H]}. Gate order is PyTorch's: LSTM {@code i, f, g, o}; GRU
 * {@code r, z, n} (with the reset gate applied after the hidden matmul, as PyTorch does). The head
 * is {@code y_scaled = wOut [outputSize, H] * h_top + bOut}.
 *
 * <p>Scaling: the network sees {@code (x - xMean) / xStd} and its output is mapped back to raw
 * units as {@code y = y_scaled * yStd + yMean}.
 */
public record RnnWeights(
    CellType cell,
    int inputSize,
    int hiddenSize,
    int layers,
    int outputSize,
    float[][] wIh,
    float[][] wHh,
    float[][] bIh,
    float[][] bHh,
    float[] wOut,
    float[] bOut,
    float[] xMean,
    float[] xStd,
    float[] yMean,
    float[] yStd) {

  /** Checks every array's length against the sizes; throws {@link IllegalArgumentException}. */
  public RnnWeights {
    Objects.requireNonNull(cell, "cell");
    if (inputSize < 1 || hiddenSize < 1 || layers < 1 || outputSize < 1) {
      throw new IllegalArgumentException("sizes must be positive");
    }
    int g = cell.gates() * hiddenSize;
    check("wIh", wIh.length, layers);
    check("wHh", wHh.length, layers);
    check("bIh", bIh.length, layers);
    check("bHh", bHh.length, layers);
    for (int l = 0; l < layers; l++) {
      int in = l == 0 ? inputSize : hiddenSize;
      check("wIh[" + l + "]", wIh[l].length, g * in);
      check("wHh[" + l + "]", wHh[l].length, g * hiddenSize);
      check("bIh[" + l + "]", bIh[l].length, g);
      check("bHh[" + l + "]", bHh[l].length, g);
    }
    check("wOut", wOut.length, outputSize * hiddenSize);
    check("bOut", bOut.length, outputSize);
    check("xMean", xMean.length, inputSize);
    check("xStd", xStd.length, inputSize);
    check("yMean", yMean.length, outputSize);
    check("yStd", yStd.length, outputSize);
  }

  private static void check(String name, int actual, int expected) {
    if (actual != expected) {
      throw new IllegalArgumentException(name + " has " + actual + " values, expected " + expected);
    }
  }

  /** Size of each state tensor: all layers' hidden vectors side by side ({@code layers * H}). */
  public int stateSize() {
    return layers * hiddenSize;
  }
}
