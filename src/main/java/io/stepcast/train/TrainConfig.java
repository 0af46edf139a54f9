package io.stepcast.train;

import io.stepcast.config.SpecValidation;
import io.stepcast.config.TopologySpec;
import io.stepcast.model.CellType;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.Locale;
import java.util.Objects;

/**
 * Hyper-parameters of one training run: the spec's {@code training} section as it is (its fields,
 * defaults, limits and documentation are declared once in {@code SpecSettings}), typed for the
 * trainer, plus how many series advance side by side in one batch.
 *
 * @param training the spec's training section; see the README's configuration table for each field
 *     (cell, layers, hiddenSize, dropout, learningRate, maxEpochs, chunkLength, gradientClip,
 *     patience, validationFraction, seed, loss, burnIn, arOrder, testFraction)
 * @param batchSeries how many series advance side by side in one batch
 */
public record TrainConfig(TopologySpec.Training training, int batchSeries) {
  /** Series per batch when nothing else is said. */
  public static final int DEFAULT_BATCH_SERIES = 32;

  /** The loss function, applied to scaled targets. */
  public enum Loss {
    /** Mean squared error. */
    MSE,
    /** Huber loss with delta 1 (in units of the target's training standard deviation). */
    HUBER,
    /** Mean absolute error: the forecast learns the median, what MAE scores. */
    MAE
  }

  /**
   * Validates every field against the spec's declared limits; throws {@link
   * IllegalArgumentException} naming the field.
   */
  public TrainConfig {
    Objects.requireNonNull(training, "training");
    SpecValidation.firstProblem("training", training)
        .ifPresent(
            p -> {
              throw new IllegalArgumentException("TrainConfig: " + p);
            });
    if (training.validationFraction() + training.testFraction() >= 0.9) {
      throw new IllegalArgumentException(
          "TrainConfig.testFraction="
              + training.testFraction()
              + ": with validationFraction "
              + training.validationFraction()
              + " less than 10% of every series is left to train on");
    }
    if (batchSeries < 1) {
      throw new IllegalArgumentException(
          "TrainConfig.batchSeries=" + batchSeries + ": must be at least 1");
    }
  }

  /** The trainer's configuration for a spec's training section. */
  public static TrainConfig of(TopologySpec.Training training) {
    return new TrainConfig(training, DEFAULT_BATCH_SERIES);
  }

  /**
   * A small one-layer LSTM that trains in seconds on a few thousand events (tests and tools): 32
   * units, dropout 0.1, Adam at 0.003, up to 100 epochs with patience 10, chunks of 32 steps,
   * gradient norm clipped at 1, the last 20% of each series for validation and no test part, MSE,
   * burn-in 16, the AR order by AIC, 32 series per batch, seed 42.
   */
  public static TrainConfig defaults() {
    return of(
        new TopologySpec.Training(
            "lstm", 1, 32, 0.1, 0.003, 100, 32, 1.0, 10, 0.2, 42L, "mse", 16, null, 0.0, 1));
  }

  /** LSTM, GRU or RNN. */
  public CellType cell() {
    return CellType.of(training.cell());
  }

  /** Number of stacked recurrent layers. */
  public int layers() {
    return training.layers();
  }

  /** Units per layer. */
  public int hiddenSize() {
    return training.hiddenSize();
  }

  /** Dropout between stacked layers while training (no effect with one layer). */
  public double dropout() {
    return training.dropout();
  }

  /** Adam's step size. */
  public double learningRate() {
    return training.learningRate();
  }

  /** Upper bound on passes over the training parts. */
  public int maxEpochs() {
    return training.maxEpochs();
  }

  /**
   * Truncated-BPTT window: gradients flow back at most this many steps, while the state itself is
   * carried (detached) across chunks from each series' first event.
   */
  public int chunkLength() {
    return training.chunkLength();
  }

  /** Maximum global L2 norm of the gradient of one update. */
  public double gradientClip() {
    return training.gradientClip();
  }

  /** Epochs without a better validation loss before training stops. */
  public int patience() {
    return training.patience();
  }

  /** The last fraction of every series that is held out for validation. */
  public double validationFraction() {
    return training.validationFraction();
  }

  /**
   * The last fraction of every series held out as the test part, after the validation part: never
   * trained on and never used to pick the epoch (0: no test part).
   */
  public double testFraction() {
    return training.testFraction();
  }

  /** The order of the AR(p) baseline, or null to choose it by AIC. */
  public Integer arOrder() {
    return training.arOrder();
  }

  /** Seeds weight initialisation, batch order and dropout: same seed, same weights. */
  public long seed() {
    return training.seed();
  }

  /** The loss minimised on scaled targets. */
  public Loss loss() {
    return Loss.valueOf(training.loss().toUpperCase(Locale.ROOT));
  }

  /** A copy with another cell type. */
  public TrainConfig withCell(CellType value) {
    return with("cell", value.name().toLowerCase(Locale.ROOT));
  }

  /** A copy with another number of layers. */
  public TrainConfig withLayers(int value) {
    return with("layers", value);
  }

  /** A copy with another hidden size. */
  public TrainConfig withHiddenSize(int value) {
    return with("hiddenSize", value);
  }

  /** A copy with another dropout. */
  public TrainConfig withDropout(double value) {
    return with("dropout", value);
  }

  /** A copy with another learning rate. */
  public TrainConfig withLearningRate(double value) {
    return with("learningRate", value);
  }

  /** A copy with another maximum number of epochs. */
  public TrainConfig withMaxEpochs(int value) {
    return with("maxEpochs", value);
  }

  /** A copy with another TBPTT chunk length. */
  public TrainConfig withChunkLength(int value) {
    return with("chunkLength", value);
  }

  /** A copy with another gradient clipping norm. */
  public TrainConfig withGradientClip(double value) {
    return with("gradientClip", value);
  }

  /** A copy with another early-stopping patience. */
  public TrainConfig withPatience(int value) {
    return with("patience", value);
  }

  /** A copy with another validation fraction. */
  public TrainConfig withValidationFraction(double value) {
    return with("validationFraction", value);
  }

  /** A copy with another test fraction. */
  public TrainConfig withTestFraction(double value) {
    return with("testFraction", value);
  }

  /** Networks trained from successive seeds and averaged into one (1: a single network). */
  public int ensemble() {
    return training.ensemble();
  }

  /** A copy with another ensemble size. */
  public TrainConfig withEnsemble(int value) {
    return with("ensemble", value);
  }

  /** A copy with another seed. */
  public TrainConfig withSeed(long value) {
    return with("seed", value);
  }

  /** A copy with another loss function. */
  public TrainConfig withLoss(Loss value) {
    return with("loss", value.name().toLowerCase(Locale.ROOT));
  }

  /** A copy with another number of series per batch. */
  public TrainConfig withBatchSeries(int value) {
    return new TrainConfig(training, value);
  }

  /** A copy whose training section has {@code value} at {@code field}, all else the same. */
  private TrainConfig with(String field, Object value) {
    RecordComponent[] components = TopologySpec.Training.class.getRecordComponents();
    Class<?>[] types = new Class<?>[components.length];
    Object[] args = new Object[components.length];
    try {
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
        args[i] =
            components[i].getName().equals(field)
                ? value
                : components[i].getAccessor().invoke(training);
      }
      Constructor<TopologySpec.Training> canonical =
          TopologySpec.Training.class.getDeclaredConstructor(types);
      return new TrainConfig(canonical.newInstance(args), batchSeries);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot copy the training section with " + field, e);
    }
  }
}
