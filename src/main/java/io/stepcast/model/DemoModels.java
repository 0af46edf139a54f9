package io.stepcast.model;

import java.util.Arrays;
import java.util.Random;

/**
 * Small seeded random step models for demos and tests, before a trained model exists.
 *
 * <p>{@link #persistenceLike} gives the recurrent layers PyTorch-style random weights but a
 * near-zero head, so the network's output stays close to zero: with a {@code difference} or {@code
 * log_return} target that is a forecast close to persistence (the next value equals the current
 * one), a harmless stand-in that still exercises the whole step path.
 */
public final class DemoModels {

  /** Scale of the head weights: small enough that |y| stays well below 0.01. */
  static final float HEAD_SCALE = 1e-3f;

  private DemoModels() {}

  /**
   * Seeded weights: recurrent weights and biases uniform in {@code [-1/sqrt(H), 1/sqrt(H)]} (as
   * PyTorch initialises them), head weights uniform in {@code [-1e-3, 1e-3]}, head bias zero, no
   * input scaling (mean 0, std 1) and output scaling {@code yMean}=0, {@code yStd}=1.
   */
  public static RnnWeights persistenceLikeWeights(
      CellType cell, int inputSize, int hidden, int layers, int outputSize, long seed) {
    Random random = new Random(seed);
    int rows = cell.gates() * hidden;
    float bound = (float) (1.0 / Math.sqrt(hidden));
    float[][] wIh = new float[layers][];
    float[][] wHh = new float[layers][];
    float[][] bIh = new float[layers][];
    float[][] bHh = new float[layers][];
    for (int l = 0; l < layers; l++) {
      int in = l == 0 ? inputSize : hidden;
      wIh[l] = uniform(random, rows * in, bound);
      wHh[l] = uniform(random, rows * hidden, bound);
      bIh[l] = uniform(random, rows, bound);
      bHh[l] = uniform(random, rows, bound);
    }
    float[] xStd = new float[inputSize];
    Arrays.fill(xStd, 1f);
    float[] yStd = new float[outputSize];
    Arrays.fill(yStd, 1f);
    return new RnnWeights(
        cell,
        inputSize,
        hidden,
        layers,
        outputSize,
        wIh,
        wHh,
        bIh,
        bHh,
        uniform(random, outputSize * hidden, HEAD_SCALE),
        new float[outputSize],
        new float[inputSize],
        xStd,
        new float[outputSize],
        yStd);
  }

  /**
   * An ONNX step model with {@link #persistenceLikeWeights} and {@code base}'s descriptive fields
   * (version, pipeline, features, target, burn-in, training figures); cell, sizes and states are
   * set from the arguments and golden vectors are generated.
   *
   * @throws IllegalArgumentException if {@code base} names a number of features other than {@code
   *     inputSize}
   */
  public static byte[] persistenceLike(
      CellType cell, int inputSize, int hidden, int layers, long seed, ModelSpec base) {
    if (base.inputSize() != inputSize) {
      throw new IllegalArgumentException(
          "base spec has " + base.inputSize() + " features, inputSize is " + inputSize);
    }
    RnnWeights w = persistenceLikeWeights(cell, inputSize, hidden, layers, base.outputSize(), seed);
    ModelSpec spec = base.toBuilder().network(cell, layers, hidden).golden(null).build();
    return StepModelBuilder.build(w, spec);
  }

  private static float[] uniform(Random random, int n, float bound) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (random.nextFloat() * 2f - 1f) * bound;
    }
    return out;
  }
}
