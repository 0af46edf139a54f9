package io.stepcast.train;

import io.stepcast.model.RnnWeights;
import java.util.List;

/**
 * What a training run produced.
 *
 * @param weights the weights of the epoch with the lowest validation loss, with the scaling fitted
 *     on the training parts, in PyTorch's layout (ready for the step model builder)
 * @param epochs number of epochs run (fewer than the maximum when early stopping hit)
 * @param bestValLoss the lowest validation loss, in scaled units, with the configured loss function
 * @param validation per series, the best weights' forecasts over its validation part
 * @param skippedUpdates updates skipped because their loss or gradient was not finite
 * @param finalLearningRate the learning rate at the end (halved once per skipped update)
 */
public record TrainResult(
    RnnWeights weights,
    int epochs,
    double bestValLoss,
    List<SeriesPrediction> validation,
    int skippedUpdates,
    double finalLearningRate) {

  /** Makes the list unmodifiable. */
  public TrainResult {
    validation = List.copyOf(validation);
  }
}
