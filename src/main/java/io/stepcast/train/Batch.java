package io.stepcast.train;

import java.util.List;

/**
 * A group of series that advance side by side, aligned at their first event and padded at the end.
 *
 * <p>Row {@code b} of every window is series {@code b}. Steps past a series' end are zero inputs
 * whose outputs are masked out; they only touch that row's state after its last real event, so they
 * never affect a real step. Series are grouped by similar length to keep the padding small.
 */
final class Batch {

  /**
   * One series, scaled, with its split: training rows {@code [0, trainEnd)}, validation rows {@code
   * [trainEnd, validationEnd)}; the test rows after them are never looked at.
   */
  record Prepared(String id, int length, int trainEnd, int validationEnd, float[] x, float[] y) {}

  /**
   * Inputs {@code [B, steps, in]}, targets and mask {@code [B, steps, out]} (row-major), and how
   * many target values the mask keeps.
   */
  record Window(int steps, float[] x, float[] y, float[] mask, long count) {}

  private final List<Prepared> members;
  private final int inputSize;
  private final int outputSize;
  private final int trainSteps;
  private final int totalSteps;

  Batch(List<Prepared> members, int inputSize, int outputSize) {
    this.members = List.copyOf(members);
    this.inputSize = inputSize;
    this.outputSize = outputSize;
    this.trainSteps = this.members.stream().mapToInt(Prepared::trainEnd).max().orElseThrow();
    this.totalSteps = this.members.stream().mapToInt(Prepared::validationEnd).max().orElseThrow();
  }

  int size() {
    return members.size();
  }

  /** Steps needed to cover every member's training part. */
  int trainSteps() {
    return trainSteps;
  }

  /** Steps needed to cover every member's training and validation parts. */
  int totalSteps() {
    return totalSteps;
  }

  /**
   * Steps {@code [from, to)} of every member. The mask keeps training steps ({@code t < trainEnd})
   * or, with {@code validation}, validation steps ({@code trainEnd <= t < validationEnd}).
   */
  Window window(int from, int to, boolean validation) {
    int steps = to - from;
    int batch = members.size();
    float[] x = new float[batch * steps * inputSize];
    float[] y = new float[batch * steps * outputSize];
    float[] mask = new float[batch * steps * outputSize];
    long count = 0;
    for (int b = 0; b < batch; b++) {
      Prepared p = members.get(b);
      int end = Math.min(to, p.length());
      if (end > from) {
        System.arraycopy(
            p.x(), from * inputSize, x, b * steps * inputSize, (end - from) * inputSize);
        System.arraycopy(
            p.y(), from * outputSize, y, b * steps * outputSize, (end - from) * outputSize);
        // NaN labels become 0: the mask multiplies, and NaN * 0 would still reach the loss.
        for (int i = b * steps * outputSize; i < (b * steps + end - from) * outputSize; i++) {
          if (Float.isNaN(y[i])) {
            y[i] = 0f;
          }
        }
      }
      int keepFrom = validation ? Math.max(from, p.trainEnd()) : from;
      int keepTo = validation ? Math.min(end, p.validationEnd()) : Math.min(end, p.trainEnd());
      for (int t = keepFrom; t < keepTo; t++) {
        int base = (b * steps + t - from) * outputSize;
        for (int j = 0; j < outputSize; j++) {
          // A label past the series' end (a far horizon, NaN, zeroed above) is masked out.
          if (!Float.isNaN(p.y()[t * outputSize + j])) {
            mask[base + j] = 1f;
            count++;
          }
        }
      }
    }
    return new Window(steps, x, y, mask, count);
  }
}
