package io.stepcast.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded random weights and specs for tests, with non-trivial scaling on both ends. */
public final class TestWeights {

  private TestWeights() {}

  public static RnnWeights random(CellType cell, int inputSize, int hidden, int layers, long seed) {
    Random r = new Random(seed);
    int rows = cell.gates() * hidden;
    float[][] wIh = new float[layers][];
    float[][] wHh = new float[layers][];
    float[][] bIh = new float[layers][];
    float[][] bHh = new float[layers][];
    for (int l = 0; l < layers; l++) {
      int in = l == 0 ? inputSize : hidden;
      wIh[l] = uniform(r, rows * in, -0.6f, 0.6f);
      wHh[l] = uniform(r, rows * hidden, -0.6f, 0.6f);
      bIh[l] = uniform(r, rows, -0.5f, 0.5f);
      bHh[l] = uniform(r, rows, -0.5f, 0.5f);
    }
    int out = 2;
    return new RnnWeights(
        cell,
        inputSize,
        hidden,
        layers,
        out,
        wIh,
        wHh,
        bIh,
        bHh,
        uniform(r, out * hidden, -1f, 1f),
        uniform(r, out, -0.5f, 0.5f),
        uniform(r, inputSize, -5f, 5f),
        uniform(r, inputSize, 0.5f, 3f),
        uniform(r, out, -2f, 2f),
        uniform(r, out, 0.5f, 2f));
  }

  public static ModelSpec spec(RnnWeights w, String version) {
    List<String> features = new ArrayList<>();
    for (int j = 0; j < w.inputSize(); j++) {
      features.add("f" + j);
    }
    return ModelSpec.builder()
        .version(version)
        .pipeline("test")
        .network(w.cell(), w.layers(), w.hiddenSize())
        .features(features)
        .outputSize(w.outputSize())
        .target("f0", "difference")
        .burnIn(5)
        .training("val_mae", 0.25)
        .training("persistence_mae", 0.3)
        .createdAt("2025-01-01T00:00:00Z")
        .build();
  }

  /** Raw-unit inputs around the weights' scaling. */
  public static float[][] inputs(RnnWeights w, int steps, long seed) {
    Random r = new Random(seed);
    float[][] x = new float[steps][w.inputSize()];
    for (int t = 0; t < steps; t++) {
      for (int j = 0; j < w.inputSize(); j++) {
        x[t][j] = (float) (w.xMean()[j] + 1.5 * w.xStd()[j] * r.nextGaussian());
      }
    }
    return x;
  }

  static float[] uniform(Random r, int n, float lo, float hi) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + (hi - lo) * r.nextFloat();
    }
    return v;
  }
}
