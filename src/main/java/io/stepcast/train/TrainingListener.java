package io.stepcast.train;

/**
 * Receives the trainer's progress once per epoch (for logs, progress bars, or the CLI).
 *
 * <p>Losses are in the network's scaled units, measured with the configured loss function.
 */
@FunctionalInterface
public interface TrainingListener {

  /** A listener that ignores every epoch. */
  TrainingListener NONE = (epoch, maxEpochs, trainLoss, valLoss, improved) -> {};

  /**
   * Called after each epoch.
   *
   * @param epoch the epoch just finished, from 1
   * @param maxEpochs the configured maximum
   * @param trainLoss mean loss over the epoch's training steps
   * @param valLoss mean loss over all series' validation parts, state carried from each series'
   *     first event
   * @param improved whether {@code valLoss} is the best so far (its weights are kept)
   */
  void onEpoch(int epoch, int maxEpochs, double trainLoss, double valLoss, boolean improved);
}
