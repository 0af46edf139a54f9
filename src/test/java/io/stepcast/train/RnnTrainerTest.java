package io.stepcast.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.stepcast.model.CellType;
import io.stepcast.model.RnnWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class RnnTrainerTest {

  private static final Logger LOG = LoggerFactory.getLogger(RnnTrainerTest.class);

  private final RnnTrainer trainer = new RnnTrainer();

  /** Noisy sine waves; feature = the current value, target = the next value. */
  private static List<SeriesData> noisySines(int count, int length, long seed) {
    Random random = new Random(seed);
    List<SeriesData> series = new ArrayList<>();
    for (int s = 0; s < count; s++) {
      double phase = 2.1 * s;
      double[] v = new double[length + 1];
      for (int t = 0; t <= length; t++) {
        v[t] = Math.sin(2 * Math.PI * t / 40.0 + phase) + 0.05 * random.nextGaussian();
      }
      float[][] x = new float[length][];
      float[][] y = new float[length][];
      for (int t = 0; t < length; t++) {
        x[t] = new float[] {(float) v[t]};
        y[t] = new float[] {(float) v[t + 1]};
      }
      series.add(new SeriesData("sine-" + s, x, y));
    }
    return series;
  }

  /**
   * Three features with different offsets and scales (one constant) and two targets, so that a
   * transposed matrix, a swapped gate or a misplaced scale cannot go unnoticed.
   */
  private static List<SeriesData> multivariate(int[] lengths, long seed) {
    Random random = new Random(seed);
    List<SeriesData> series = new ArrayList<>();
    for (int s = 0; s < lengths.length; s++) {
      int n = lengths[s];
      double[] v = new double[n + 2];
      for (int t = 0; t < n + 2; t++) {
        v[t] = Math.sin(2 * Math.PI * t / 23.0 + s) + 0.1 * random.nextGaussian();
      }
      float[][] x = new float[n][];
      float[][] y = new float[n][];
      for (int t = 0; t < n; t++) {
        x[t] =
            new float[] {
              (float) (100 + 20 * v[t]), (float) Math.cos(2 * Math.PI * t / 7.0), 3f, (t % 5) / 5f
            };
        y[t] = new float[] {(float) (100 + 20 * v[t + 1]), (float) (-2 + 0.5 * v[t + 2])};
      }
      series.add(new SeriesData("multi-" + s, x, y));
    }
    return series;
  }

  static double maxAbsDiff(float[][] a, float[][] b) {
    assertThat(a.length).isEqualTo(b.length);
    double max = 0;
    for (int t = 0; t < a.length; t++) {
      assertThat(a[t].length).isEqualTo(b[t].length);
      for (int j = 0; j < a[t].length; j++) {
        max = Math.max(max, Math.abs(a[t][j] - b[t][j]));
      }
    }
    return max;
  }

  @Test
  void shouldBeatPersistenceOnNoisySineWaves() {
    List<SeriesData> series = noisySines(3, 400, 7);
    TrainConfig cfg =
        TrainConfig.defaults().withHiddenSize(32).withLearningRate(0.01).withMaxEpochs(60);

    long start = System.nanoTime();
    TrainResult result = trainer.train(series, cfg, TrainingListener.NONE);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    double modelError = 0;
    double persistenceError = 0;
    int count = 0;
    for (SeriesPrediction p : result.validation()) {
      SeriesData s = series.stream().filter(d -> d.id().equals(p.id())).findFirst().orElseThrow();
      for (int i = 0; i < p.actual().length; i++) {
        int t = p.valStart() + i;
        modelError += Math.abs(p.predicted()[i][0] - p.actual()[i][0]);
        persistenceError += Math.abs(s.x()[t][0] - s.y()[t][0]);
        count++;
      }
    }
    modelError /= count;
    persistenceError /= count;
    LOG.info(
        "sine waves: {} epochs in {} ms, validation MAE {} vs persistence {}",
        result.epochs(),
        millis,
        modelError,
        persistenceError);

    assertThat(count).isEqualTo(3 * 80);
    assertThat(modelError).isLessThan(0.7 * persistenceError);
  }

  @Test
  void shouldProduceIdenticalWeightsForTheSameSeed() {
    List<SeriesData> series = multivariate(new int[] {200, 160}, 3);
    TrainConfig cfg =
        TrainConfig.defaults()
            .withCell(CellType.GRU)
            .withLayers(2)
            .withHiddenSize(8)
            .withDropout(0.3)
            .withMaxEpochs(4)
            .withBatchSeries(1)
            .withSeed(11);

    RnnWeights first = trainer.train(series, cfg, TrainingListener.NONE).weights();
    RnnWeights second = trainer.train(series, cfg, TrainingListener.NONE).weights();
    RnnWeights otherSeed = trainer.train(series, cfg.withSeed(12), TrainingListener.NONE).weights();

    assertThat(second.wIh()).isDeepEqualTo(first.wIh());
    assertThat(second.wHh()).isDeepEqualTo(first.wHh());
    assertThat(second.bIh()).isDeepEqualTo(first.bIh());
    assertThat(second.bHh()).isDeepEqualTo(first.bHh());
    assertThat(second.wOut()).isEqualTo(first.wOut());
    assertThat(second.bOut()).isEqualTo(first.bOut());
    assertThat(otherSeed.wOut()).isNotEqualTo(first.wOut());
  }

  @Test
  void shouldProduceIdenticalWeightsWhereverTheJavaBuffersLandInMemory() {
    // MKL picks its kernels by the operands' alignment: tensors that wrap Java direct buffers
    // (16-byte aligned, at addresses that differ from run to run) made the same seed train to
    // different weights. Shifting the native heap between two runs must change nothing.
    List<SeriesData> series = multivariate(new int[] {300}, 21);
    TrainConfig cfg =
        TrainConfig.defaults()
            .withCell(CellType.GRU)
            .withHiddenSize(8)
            .withLoss(TrainConfig.Loss.HUBER)
            .withChunkLength(64)
            .withMaxEpochs(3)
            .withSeed(5);

    RnnWeights first = trainer.train(series, cfg, TrainingListener.NONE).weights();
    List<java.nio.ByteBuffer> shift = new ArrayList<>();
    for (int i = 1; i <= 13; i++) {
      shift.add(java.nio.ByteBuffer.allocateDirect(16 * i + 4));
    }
    RnnWeights second = trainer.train(series, cfg, TrainingListener.NONE).weights();

    assertThat(shift).hasSize(13);
    assertThat(TrainerFingerprint.of(second)).isEqualTo(TrainerFingerprint.of(first));
  }

  @Test
  void shouldKeepTheNetworksTensorsInMemoryPyTorchAllocatedWhateverTheJavaBuffers() {
    // The cause of seeded runs that differed: tensors wrapping Java direct buffers, whose 16-byte
    // alignment MKL sees. DJL's own create gives such tensors; the trainer's must all be 64-byte
    // aligned, as PyTorch allocates them.
    try (ai.djl.ndarray.NDManager m = DjlEngine.get().newBaseManager()) {
      int misalignedByDjl = 0;
      for (int n = 1; n <= 40; n++) {
        float[] values = new float[n];
        ai.djl.ndarray.types.Shape shape = new ai.djl.ndarray.types.Shape(n);
        if (m.create(values, shape).toByteBuffer(true).alignmentOffset(0, 64) != 0) {
          misalignedByDjl++;
        }
        assertThat(Network.tensor(m, values, shape).toByteBuffer(true).alignmentOffset(0, 64))
            .isZero();
      }
      assertThat(misalignedByDjl).isPositive();
      Network net = Network.initialize(m, CellType.GRU, 3, 5, 2, 1, 1L);
      for (ai.djl.ndarray.NDArray p : net.parameters()) {
        assertThat(p.toByteBuffer(true).alignmentOffset(0, 64)).isZero();
      }
    }
  }

  @Test
  void shouldProduceIdenticalWeightsInAnotherJvm() throws Exception {
    String here =
        TrainerFingerprint.of(
            trainer
                .train(
                    TrainerFingerprint.series(), TrainerFingerprint.config(), TrainingListener.NONE)
                .weights());

    String there = TrainerFingerprint.inChildJvm();

    assertThat(there).isEqualTo(here);
  }

  @Test
  void shouldSkipANonFiniteGradientOrLossHalveTheRateAndReportIt() {
    List<SeriesData> series = multivariate(new int[] {200}, 6);
    TrainConfig cfg = TrainConfig.defaults().withHiddenSize(6).withChunkLength(16).withMaxEpochs(2);
    List<Integer> updates = new ArrayList<>();
    RnnTrainer.Fault fault =
        (update, loss, params) -> {
          updates.add(update);
          if (update == 3) {
            // An overflow in the backward pass: one gradient tensor turns infinite.
            params.get(0).getGradient().muli(Float.POSITIVE_INFINITY);
          }
          return update == 5 ? Double.NaN : loss;
        };

    TrainResult result = new RnnTrainer(fault).train(series, cfg, TrainingListener.NONE);

    assertThat(updates).contains(3, 5, 6);
    assertThat(result.skippedUpdates()).isEqualTo(2);
    assertThat(result.finalLearningRate()).isEqualTo(cfg.learningRate() / 4);
    RnnWeights w = result.weights();
    for (float[] layer : w.wIh()) {
      for (float v : layer) {
        assertThat(Float.isFinite(v)).isTrue();
      }
    }
    // The skipped updates left no poisoned gradient behind: training went on and improved.
    assertThat(Double.isFinite(result.bestValLoss())).isTrue();
    float[][] y = RnnTrainer.forward(w, series.get(0).x());
    assertThat(Float.isFinite(y[y.length - 1][0])).isTrue();
  }

  @Test
  void shouldFailInOneLineWithTheFixWhenUpdatesKeepOverflowing() {
    List<SeriesData> series = multivariate(new int[] {200}, 6);
    TrainConfig cfg = TrainConfig.defaults().withHiddenSize(6).withChunkLength(16).withMaxEpochs(5);
    RnnTrainer.Fault always = (update, loss, params) -> Double.POSITIVE_INFINITY;

    assertThatThrownBy(() -> new RnnTrainer(always).train(series, cfg, TrainingListener.NONE))
        .isInstanceOf(RnnTrainer.DivergedException.class)
        .hasMessageStartingWith("training diverged: " + RnnTrainer.MAX_SKIPPED_UPDATES + " of ")
        .hasMessageContaining("the learning rate was lowered from 0.003")
        .hasMessageContaining("lower training.learningRate")
        .hasMessageNotContaining("\n");
  }

  @Test
  void shouldNeitherTrainNorPickTheEpochOnTheTestPart() {
    List<SeriesData> series = multivariate(new int[] {250, 200}, 14);
    TrainConfig cfg =
        TrainConfig.defaults().withHiddenSize(6).withMaxEpochs(3).withTestFraction(0.2);
    List<SeriesData> scrambled = new ArrayList<>();
    Random random = new Random(1);
    for (SeriesData s : series) {
      float[][] x = new float[s.length()][];
      float[][] y = new float[s.length()][];
      int testStart = RnnTrainer.validationEnd(s.length(), cfg);
      for (int t = 0; t < s.length(); t++) {
        boolean test = t >= testStart;
        x[t] = test ? new float[] {999f, 1f, 2f, 3f} : s.x()[t];
        y[t] = test ? new float[] {(float) random.nextGaussian() * 50, -7f} : s.y()[t];
      }
      scrambled.add(new SeriesData(s.id(), x, y));
    }

    TrainResult clean = trainer.train(series, cfg, TrainingListener.NONE);
    TrainResult other = trainer.train(scrambled, cfg, TrainingListener.NONE);

    assertThat(RnnTrainer.validationEnd(250, cfg)).isEqualTo(200);
    assertThat(RnnTrainer.trainEnd(250, cfg)).isEqualTo(150);
    assertThat(TrainerFingerprint.of(other.weights()))
        .isEqualTo(TrainerFingerprint.of(clean.weights()));
    assertThat(other.bestValLoss()).isEqualTo(clean.bestValLoss());
    assertThat(clean.validation().get(0).predicted()).hasNumberOfRows(50);
  }

  @Test
  void shouldRejectSeriesTooShortToSplit() {
    List<SeriesData> series = new ArrayList<>(noisySines(2, 200, 1));
    series.add(shortSeries());
    TrainConfig cfg = TrainConfig.defaults().withChunkLength(16);
    assertThat(RnnTrainer.minimumLength(cfg)).isGreaterThan(15);

    assertThatThrownBy(() -> trainer.train(series, cfg, TrainingListener.NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("series 'too-short'")
        .hasMessageContaining("has 15 events")
        .hasMessageContaining("at least " + RnnTrainer.minimumLength(cfg));
  }

  private static SeriesData shortSeries() {
    SeriesData s = noisySines(1, 15, 2).get(0);
    return new SeriesData("too-short", s.x(), s.y());
  }

  @Test
  void shouldRejectInvalidConfigNamingTheField() {
    assertThatThrownBy(() -> TrainConfig.defaults().withValidationFraction(1.0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("validationFraction");
    assertThatThrownBy(() -> TrainConfig.defaults().withChunkLength(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("chunkLength");
  }

  @Test
  void shouldApplyDropoutBetweenLayersOnlyWhenConfigured() {
    List<SeriesData> series = multivariate(new int[] {200}, 8);
    TrainConfig cfg =
        TrainConfig.defaults().withLayers(2).withHiddenSize(8).withMaxEpochs(2).withDropout(0);

    RnnWeights plain = trainer.train(series, cfg, TrainingListener.NONE).weights();
    RnnWeights dropped =
        trainer.train(series, cfg.withDropout(0.5), TrainingListener.NONE).weights();

    assertThat(dropped.wOut()).isNotEqualTo(plain.wOut());
  }

  @ParameterizedTest(name = "{0} x{1}")
  @CsvSource({"LSTM, 1", "LSTM, 2", "GRU, 1", "GRU, 2", "RNN, 1", "RNN, 2"})
  void shouldExtractWeightsThatReproduceTheForwardPassInPlainJava(CellType cell, int layers) {
    List<SeriesData> series = multivariate(new int[] {240, 180}, 5);
    TrainConfig cfg =
        TrainConfig.defaults()
            .withCell(cell)
            .withLayers(layers)
            .withHiddenSize(6)
            .withDropout(0.2)
            .withMaxEpochs(3);

    TrainResult result = trainer.train(series, cfg, TrainingListener.NONE);
    RnnWeights w = result.weights();

    assertThat(w.cell()).isEqualTo(cell);
    assertThat(w.layers()).isEqualTo(layers);
    assertThat(w.inputSize()).isEqualTo(4);
    assertThat(w.outputSize()).isEqualTo(2);
    for (SeriesData s : series) {
      float[][] djl = RnnTrainer.forward(w, s.x());
      float[][] reference = PlainRnnReference.run(w, s.x());
      double diff = maxAbsDiff(djl, reference);
      LOG.info("{} x{} on {}: max |DJL - plain Java| = {}", cell, layers, s.id(), diff);
      assertThat(diff).isLessThan(1e-4);
      // The network must not be trivially constant, or the comparison proves little.
      assertThat(maxAbsDiff(new float[][] {djl[10]}, new float[][] {djl[11]})).isGreaterThan(1e-3);
    }
    for (SeriesPrediction p : result.validation()) {
      SeriesData s = series.stream().filter(d -> d.id().equals(p.id())).findFirst().orElseThrow();
      float[][] reference = PlainRnnReference.run(w, s.x());
      float[][] tail = Arrays.copyOfRange(reference, p.valStart(), s.length());
      assertThat(maxAbsDiff(p.predicted(), tail)).isLessThan(1e-4);
    }
  }

  @ParameterizedTest(name = "{0} {1} ensemble {2}")
  @CsvSource({"LSTM, MSE, 1", "GRU, HUBER, 1", "RNN, MAE, 1", "GRU, MAE, 3"})
  void shouldReportTheValidationLossOfTheWarmedUpForwardPass(
      CellType cell, TrainConfig.Loss loss, int ensemble) {
    // Different lengths and two series per batch exercise padding and masking; 1300 events
    // exceed one validation window, so the carried state crosses a window boundary too.
    List<SeriesData> series = multivariate(new int[] {1300, 400, 900}, 9);
    TrainConfig cfg =
        TrainConfig.defaults()
            .withCell(cell)
            .withLoss(loss)
            .withHiddenSize(8)
            .withMaxEpochs(2)
            .withBatchSeries(2)
            .withEnsemble(ensemble);

    TrainResult result = trainer.train(series, cfg, TrainingListener.NONE);

    // An ensemble is exported as one network of ensemble x 8 units whose forecasts (and so the
    // reported loss, recomputed below from them) are its members' mean.
    assertThat(result.weights().hiddenSize()).isEqualTo(8 * ensemble);
    float[] yStd = result.weights().yStd();
    double sum = 0;
    long count = 0;
    for (SeriesPrediction p : result.validation()) {
      SeriesData s = series.stream().filter(d -> d.id().equals(p.id())).findFirst().orElseThrow();
      assertThat(p.valStart())
          .isEqualTo(s.length() - (int) Math.round(s.length() * cfg.validationFraction()));
      for (int i = 0; i < p.actual().length; i++) {
        for (int j = 0; j < yStd.length; j++) {
          double e = (p.predicted()[i][j] - p.actual()[i][j]) / yStd[j];
          double a = Math.abs(e);
          sum +=
              switch (loss) {
                case MSE -> e * e;
                case MAE -> a;
                case HUBER -> a <= 1 ? 0.5 * e * e : a - 0.5;
              };
          count++;
        }
      }
    }
    assertThat(result.bestValLoss()).isCloseTo(sum / count, within(1e-4 * sum / count));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"LSTM", "GRU", "RNN"})
  void shouldTrainOnTheSameStateCarryAsAWholeSeriesForwardPass(CellType cell) {
    // With a vanishing learning rate the weights stay where they started, so epoch 1's training
    // loss must equal the loss of one uninterrupted pass over each series from its first event:
    // chunk boundaries, batching and padding must be invisible.
    List<SeriesData> series = multivariate(new int[] {300, 170, 250}, 12);
    TrainConfig cfg =
        TrainConfig.defaults()
            .withCell(cell)
            .withLayers(2)
            .withDropout(0)
            .withHiddenSize(8)
            .withChunkLength(16)
            .withBatchSeries(2)
            .withLearningRate(1e-9)
            .withMaxEpochs(1);
    double[] firstTrainLoss = new double[1];

    TrainResult result =
        trainer.train(series, cfg, (epoch, max, train, val, better) -> firstTrainLoss[0] = train);

    RnnWeights w = result.weights();
    double sum = 0;
    long count = 0;
    for (SeriesPrediction p : result.validation()) {
      SeriesData s = series.stream().filter(d -> d.id().equals(p.id())).findFirst().orElseThrow();
      float[][] predicted = RnnTrainer.forward(w, s.x());
      for (int t = 0; t < p.valStart(); t++) {
        for (int j = 0; j < w.outputSize(); j++) {
          double e = (predicted[t][j] - s.y()[t][j]) / w.yStd()[j];
          sum += e * e;
          count++;
        }
      }
    }
    assertThat(firstTrainLoss[0]).isCloseTo(sum / count, within(1e-4 * sum / count));
  }

  @Test
  void shouldFitScalingOnTheTrainingPartOnly() {
    List<SeriesData> series = multivariate(new int[] {100}, 4);
    SeriesData s = series.get(0);
    // A level shift inside the validation part must not leak into the scaling.
    for (int t = 80; t < 100; t++) {
      s.x()[t][0] += 1000;
    }
    TrainConfig cfg = TrainConfig.defaults().withMaxEpochs(1).withChunkLength(16);

    RnnWeights w = trainer.train(series, cfg, TrainingListener.NONE).weights();

    double mean = 0;
    for (int t = 0; t < 80; t++) {
      mean += s.x()[t][0];
    }
    mean /= 80;
    double var = 0;
    for (int t = 0; t < 80; t++) {
      var += (s.x()[t][0] - mean) * (s.x()[t][0] - mean);
    }
    assertThat((double) w.xMean()[0]).isCloseTo(mean, within(1e-3));
    assertThat((double) w.xStd()[0]).isCloseTo(Math.sqrt(var / 80), within(1e-3));
    assertThat(w.xMean()[2]).isEqualTo(3f);
    assertThat(w.xStd()[2]).isEqualTo(1f);
  }

  @Test
  void shouldStopEarlyAndKeepTheBestEpoch() {
    // Pure noise targets: nothing to learn, so validation stops improving quickly.
    Random random = new Random(3);
    float[][] x = new float[300][];
    float[][] y = new float[300][];
    for (int t = 0; t < 300; t++) {
      x[t] = new float[] {(float) random.nextGaussian()};
      y[t] = new float[] {(float) random.nextGaussian()};
    }
    TrainConfig cfg = TrainConfig.defaults().withHiddenSize(16).withPatience(2).withMaxEpochs(100);
    List<Double> valLosses = new ArrayList<>();
    List<Boolean> improved = new ArrayList<>();

    TrainResult result =
        trainer.train(
            List.of(new SeriesData("noise", x, y)),
            cfg,
            (epoch, max, trainLoss, valLoss, better) -> {
              assertThat(epoch).isEqualTo(valLosses.size() + 1);
              assertThat(max).isEqualTo(100);
              valLosses.add(valLoss);
              improved.add(better);
            });

    assertThat(result.epochs()).isLessThan(100).isEqualTo(valLosses.size());
    assertThat(improved.subList(improved.size() - 2, improved.size())).containsOnly(false);
    assertThat(result.bestValLoss())
        .isEqualTo(valLosses.stream().mapToDouble(Double::doubleValue).min().orElseThrow());
    // The kept weights are the best epoch's: their validation forecasts reproduce its loss.
    SeriesPrediction p = result.validation().get(0);
    double sum = 0;
    for (int i = 0; i < p.actual().length; i++) {
      double e = (p.predicted()[i][0] - p.actual()[i][0]) / result.weights().yStd()[0];
      sum += e * e;
    }
    assertThat(sum / p.actual().length)
        .isCloseTo(result.bestValLoss(), within(1e-4 * result.bestValLoss()));
  }
}
