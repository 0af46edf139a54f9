package io.stepcast.train;

import io.stepcast.model.CellType;
import java.util.Objects;

/**
 * Hyper-parameters of one training run.
 *
 * @param cell LSTM, GRU or RNN
 * @param layers number of stacked recurrent layers
 * @param hiddenSize units per layer
 * @param dropout dropout between stacked layers while training (no effect with one layer)
 * @param learningRate Adam's step size
 * @param maxEpochs upper bound on passes over the training parts
 * @param chunkLength truncated-BPTT window: gradients flow back at most this many steps, while the
 *     state itself is carried (detached) across chunks from each series' first event
 * @param gradientClip maximum global L2 norm of the gradient of one update
 * @param patience epochs without a better validation loss before training stops
 * @param validationFraction the last fraction of every series that is held out for validation
 * @param seed seeds weight initialisation, batch order and dropout: same seed, same weights
 * @param loss the loss minimised on scaled targets
 * @param batchSeries how many series advance side by side in one batch
 * @param testFraction the last fraction of every series that is held out as the test part, after
 *     the validation part: never trained on and never used to pick the epoch, so its errors are an
 *     honest estimate (0: no test part)
 */
public record TrainConfig(
    CellType cell,
    int layers,
    int hiddenSize,
    double dropout,
    double learningRate,
    int maxEpochs,
    int chunkLength,
    double gradientClip,
    int patience,
    double validationFraction,
    long seed,
    Loss loss,
    int batchSeries,
    double testFraction) {

  /** The loss function, applied to scaled targets. */
  public enum Loss {
    /** Mean squared error. */
    MSE,
    /** Huber loss with delta 1 (in units of the target's training standard deviation). */
    HUBER
  }

  /** Validates every field; throws {@link IllegalArgumentException} naming the field. */
  public TrainConfig {
    Objects.requireNonNull(cell, "cell");
    Objects.requireNonNull(loss, "loss");
    require(layers >= 1, "layers", layers, "must be at least 1");
    require(hiddenSize >= 1, "hiddenSize", hiddenSize, "must be at least 1");
    require(dropout >= 0 && dropout < 1, "dropout", dropout, "must be in [0, 1)");
    require(
        learningRate > 0 && Double.isFinite(learningRate),
        "learningRate",
        learningRate,
        "must be positive");
    require(maxEpochs >= 1, "maxEpochs", maxEpochs, "must be at least 1");
    require(chunkLength >= 1, "chunkLength", chunkLength, "must be at least 1");
    require(gradientClip > 0, "gradientClip", gradientClip, "must be positive");
    require(patience >= 1, "patience", patience, "must be at least 1");
    require(
        validationFraction > 0 && validationFraction < 1,
        "validationFraction",
        validationFraction,
        "must be in (0, 1)");
    require(batchSeries >= 1, "batchSeries", batchSeries, "must be at least 1");
    require(
        testFraction >= 0 && testFraction < 1, "testFraction", testFraction, "must be in [0, 1)");
    require(
        validationFraction + testFraction < 0.9,
        "testFraction",
        testFraction,
        "and validationFraction (" + validationFraction + ") must leave at least 10% to train on");
  }

  private static void require(boolean ok, String field, Object value, String rule) {
    if (!ok) {
      throw new IllegalArgumentException("TrainConfig." + field + "=" + value + ": " + rule);
    }
  }

  /**
   * A small one-layer LSTM that trains in seconds on a few thousand events: 32 units, Adam at
   * 0.003, up to 100 epochs with patience 10, chunks of 32 steps, gradient norm clipped at 1, the
   * last 20% of each series for validation, no test part, MSE, 32 series per batch, seed 42.
   */
  public static TrainConfig defaults() {
    return new TrainConfig(
        CellType.LSTM, 1, 32, 0.1, 0.003, 100, 32, 1.0, 10, 0.2, 42L, Loss.MSE, 32, 0.0);
  }

  /** A copy with another cell type. */
  public TrainConfig withCell(CellType value) {
    return new TrainConfig(
        value,
        layers,
        hiddenSize,
        dropout,
        learningRate,
        maxEpochs,
        chunkLength,
        gradientClip,
        patience,
        validationFraction,
        seed,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another number of layers. */
  public TrainConfig withLayers(int value) {
    return new TrainConfig(
        cell,
        value,
        hiddenSize,
        dropout,
        learningRate,
        maxEpochs,
        chunkLength,
        gradientClip,
        patience,
        validationFraction,
        seed,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another hidden size. */
  public TrainConfig withHiddenSize(int value) {
    return new TrainConfig(
        cell,
        layers,
        value,
        dropout,
        learningRate,
        maxEpochs,
        chunkLength,
        gradientClip,
        patience,
        validationFraction,
        seed,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another dropout. */
  public TrainConfig withDropout(double value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        value,
        learningRate,
        maxEpochs,
        chunkLength,
        gradientClip,
        patience,
        validationFraction,
        seed,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another learning rate. */
  public TrainConfig withLearningRate(double value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        dropout,
        value,
        maxEpochs,
        chunkLength,
        gradientClip,
        patience,
        validationFraction,
        seed,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another maximum number of epochs. */
  public TrainConfig withMaxEpochs(int value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        dropout,
        learningRate,
        value,
        chunkLength,
        gradientClip,
        patience,
        validationFraction,
        seed,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another TBPTT chunk length. */
  public TrainConfig withChunkLength(int value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        dropout,
        learningRate,
        maxEpochs,
        value,
        gradientClip,
        patience,
        validationFraction,
        seed,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another gradient clipping norm. */
  public TrainConfig withGradientClip(double value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        dropout,
        learningRate,
        maxEpochs,
        chunkLength,
        value,
        patience,
        validationFraction,
        seed,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another early-stopping patience. */
  public TrainConfig withPatience(int value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        dropout,
        learningRate,
        maxEpochs,
        chunkLength,
        gradientClip,
        value,
        validationFraction,
        seed,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another validation fraction. */
  public TrainConfig withValidationFraction(double value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        dropout,
        learningRate,
        maxEpochs,
        chunkLength,
        gradientClip,
        patience,
        value,
        seed,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another seed. */
  public TrainConfig withSeed(long value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        dropout,
        learningRate,
        maxEpochs,
        chunkLength,
        gradientClip,
        patience,
        validationFraction,
        value,
        loss,
        batchSeries,
        testFraction);
  }

  /** A copy with another loss function. */
  public TrainConfig withLoss(Loss value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        dropout,
        learningRate,
        maxEpochs,
        chunkLength,
        gradientClip,
        patience,
        validationFraction,
        seed,
        value,
        batchSeries,
        testFraction);
  }

  /** A copy with another test fraction. */
  public TrainConfig withTestFraction(double value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        dropout,
        learningRate,
        maxEpochs,
        chunkLength,
        gradientClip,
        patience,
        validationFraction,
        seed,
        loss,
        batchSeries,
        value);
  }

  /** A copy with another number of series per batch. */
  public TrainConfig withBatchSeries(int value) {
    return new TrainConfig(
        cell,
        layers,
        hiddenSize,
        dropout,
        learningRate,
        maxEpochs,
        chunkLength,
        gradientClip,
        patience,
        validationFraction,
        seed,
        loss,
        value,
        testFraction);
  }
}
