package io.stepcast.train;

import io.stepcast.model.RnnWeights;
import java.util.Arrays;
import java.util.List;

/**
 * Averages K networks of the same shape into one network of K times the width that computes their
 * mean forecast exactly, so an ensemble is served through the unchanged step contract.
 *
 * <p>Member {@code k}'s units become units {@code [k H, (k+1) H)} of every gate of every layer: the
 * first layer's input weights are stacked (every member reads the same inputs), the recurrent
 * weights and the deeper layers' input weights are block-diagonal (a member never reads another's
 * units), the biases are stacked, and the head reads every member's top layer with weights divided
 * by K. Gates act unit by unit (the GRU's reset gate too), so each block evolves exactly as its
 * member does alone. The members share the scaling, which is fitted on the data, not the seed.
 */
final class Ensemble {
  private Ensemble() {}

  /**
   * The network whose output is the mean of {@code members}' outputs.
   *
   * @throws IllegalArgumentException when the members differ in cell, sizes or scaling
   */
  static RnnWeights average(List<RnnWeights> members) {
    RnnWeights first = members.get(0);
    int k = members.size();
    if (k == 1) {
      return first;
    }
    for (RnnWeights m : members) {
      if (m.cell() != first.cell()
          || m.inputSize() != first.inputSize()
          || m.hiddenSize() != first.hiddenSize()
          || m.layers() != first.layers()
          || m.outputSize() != first.outputSize()
          || !Arrays.equals(m.xMean(), first.xMean())
          || !Arrays.equals(m.xStd(), first.xStd())
          || !Arrays.equals(m.yMean(), first.yMean())
          || !Arrays.equals(m.yStd(), first.yStd())) {
        throw new IllegalArgumentException("ensemble members differ in shape or scaling");
      }
    }
    int h = first.hiddenSize();
    int wide = k * h;
    int gates = first.cell().gates();
    int layers = first.layers();
    float[][] wIh = new float[layers][];
    float[][] wHh = new float[layers][];
    float[][] bIh = new float[layers][];
    float[][] bHh = new float[layers][];
    for (int l = 0; l < layers; l++) {
      int in = l == 0 ? first.inputSize() : h;
      int wideIn = l == 0 ? first.inputSize() : wide;
      wIh[l] = new float[gates * wide * wideIn];
      wHh[l] = new float[gates * wide * wide];
      bIh[l] = new float[gates * wide];
      bHh[l] = new float[gates * wide];
      for (int m = 0; m < k; m++) {
        RnnWeights w = members.get(m);
        int colOffset = l == 0 ? 0 : m * h;
        for (int g = 0; g < gates; g++) {
          for (int j = 0; j < h; j++) {
            int src = g * h + j;
            int dst = g * wide + m * h + j;
            System.arraycopy(w.wIh()[l], src * in, wIh[l], dst * wideIn + colOffset, in);
            System.arraycopy(w.wHh()[l], src * h, wHh[l], dst * wide + m * h, h);
            bIh[l][dst] = w.bIh()[l][src];
            bHh[l][dst] = w.bHh()[l][src];
          }
        }
      }
    }
    int out = first.outputSize();
    float[] wOut = new float[out * wide];
    float[] bOut = new float[out];
    for (int m = 0; m < k; m++) {
      RnnWeights w = members.get(m);
      for (int o = 0; o < out; o++) {
        for (int j = 0; j < h; j++) {
          wOut[o * wide + m * h + j] = w.wOut()[o * h + j] / k;
        }
        bOut[o] += w.bOut()[o] / k;
      }
    }
    return new RnnWeights(
        first.cell(),
        first.inputSize(),
        wide,
        layers,
        out,
        wIh,
        wHh,
        bIh,
        bHh,
        wOut,
        bOut,
        first.xMean().clone(),
        first.xStd().clone(),
        first.yMean().clone(),
        first.yStd().clone());
  }
}
