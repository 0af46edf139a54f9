package io.stepcast.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.stepcast.model.RnnWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a stacked LSTM or GRU forecaster with DJL and PyTorch, the way it will be served.
 *
 * <p>The server carries each series' state from its first event and advances it one event at a
 * time, so the trainer does the same: every series is unrolled from its first event over
 * consecutive chunks of {@link TrainConfig#chunkLength()} steps (truncated backpropagation through
 * time), the state carried detached from one chunk to the next, never reset. Several series run
 * side by side in a batch. The last {@link TrainConfig#validationFraction()} of every series is
 * held out; the validation loss continues each series' state from the end of its training part
 * through its validation part, so the network is judged warmed up exactly as it is online. Features
 * and targets are standardised with statistics of the training parts only, and the statistics
 * travel in the {@link RnnWeights}. Adam, gradient-norm clipping, early stopping that keeps the
 * best epoch's weights.
 *
 * <p>Reproducible: the same data, config and seed give the same weights (the seed drives weight
 * initialisation, batch order and PyTorch's dropout generator). Because PyTorch's generator and
 * DJL's gradient collector are global, trainings in one JVM run one at a time.
 */
public final class RnnTrainer {

  /** The fewest training events a series may have. */
  public static final int MIN_TRAINING_EVENTS = 8;

  /** Steps per window when the validation pass runs over whole series, bounding its memory. */
  private static final int VALIDATION_WINDOW = 1024;

  private static final Logger LOG = LoggerFactory.getLogger(RnnTrainer.class);
  private static final Object LOCK = new Object();

  /**
   * Trains on {@code series} and returns the best epoch's weights.
   *
   * @throws IllegalArgumentException when the series are empty, inconsistent, contain non-finite
   *     values, repeat an id, or one is too short to split into training and validation (the
   *     message names the series and its length)
   * @throws IllegalStateException when training diverges (a non-finite loss or gradient)
   */
  public TrainResult train(List<SeriesData> series, TrainConfig cfg, TrainingListener listener) {
    Objects.requireNonNull(series, "series");
    Objects.requireNonNull(cfg, "cfg");
    Objects.requireNonNull(listener, "listener");
    Dataset data = Dataset.prepare(series, cfg);
    TrainResult result;
    synchronized (LOCK) {
      result = run(data, cfg, listener);
    }
    return result;
  }

  /**
   * Runs {@code w} over a whole series from a zero state and returns the forecasts in raw units,
   * {@code [n][outputSize]}: the DJL/PyTorch reference for export parity checks.
   */
  public static float[][] forward(RnnWeights w, float[][] x) {
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(x, "x");
    int n = x.length;
    int in = w.inputSize();
    int out = w.outputSize();
    for (int t = 0; t < n; t++) {
      if (x[t].length != in) {
        throw new IllegalArgumentException(
            "x[" + t + "] has " + x[t].length + " features, the weights expect " + in);
      }
    }
    float[][] y = new float[n][out];
    if (n == 0) {
      return y;
    }
    float[] scaled = new float[n * in];
    Scaling.scaleInto(x, 0, n, w.xMean(), w.xStd(), scaled, 0);
    Engine engine = DjlEngine.get();
    try (NDManager manager = engine.newBaseManager()) {
      Network net = Network.of(manager, w);
      NDArray input = manager.create(scaled, new Shape(1, n, in));
      float[] ys = net.forward(input, net.zeroState(manager, 1), 0, false).y().toFloatArray();
      for (int t = 0; t < n; t++) {
        for (int j = 0; j < out; j++) {
          y[t][j] = ys[t * out + j] * w.yStd()[j] + w.yMean()[j];
        }
      }
    }
    return y;
  }

  /**
   * The fewest events a series needs under {@code cfg}: at least {@link #MIN_TRAINING_EVENTS} and
   * one full chunk for training, and one for validation.
   */
  public static int minimumLength(TrainConfig cfg) {
    int minTrain = Math.max(MIN_TRAINING_EVENTS, cfg.chunkLength());
    int n = minTrain + 1;
    while (n - validationLength(n, cfg.validationFraction()) < minTrain) {
      n++;
    }
    return n;
  }

  /** Validation events of a series of {@code n} events: the rounded fraction, at least one. */
  static int validationLength(int n, double fraction) {
    return Math.max(1, (int) Math.round(n * fraction));
  }

  private TrainResult run(Dataset data, TrainConfig cfg, TrainingListener listener) {
    Engine engine = DjlEngine.get();
    // Autograd's on/off switch is per thread in PyTorch; record graphs only inside the collector.
    JniUtils.setGradMode(false);
    engine.setRandomSeed(Long.hashCode(cfg.seed()));
    long start = System.nanoTime();
    RnnWeights weights;
    int epoch = 0;
    double best = Double.POSITIVE_INFINITY;
    try (NDManager root = engine.newBaseManager()) {
      Network net =
          Network.initialize(
              root,
              cfg.cell(),
              data.inputSize,
              cfg.hiddenSize(),
              cfg.layers(),
              data.outputSize,
              cfg.seed());
      Optimizer adam =
          Optimizer.adam()
              .optLearningRateTracker(Tracker.fixed((float) cfg.learningRate()))
              .build();
      Random shuffle = new Random(cfg.seed());
      List<Batch> order = new ArrayList<>(data.batches);
      float[][] bestSnapshot = null;
      int sinceBest = 0;
      while (epoch < cfg.maxEpochs() && sinceBest < cfg.patience()) {
        epoch++;
        Collections.shuffle(order, shuffle);
        double trainLoss = trainEpoch(engine, net, adam, order, cfg, root);
        double valLoss = validationLoss(net, data.batches, cfg, root);
        boolean improved = valLoss < best;
        if (improved) {
          best = valLoss;
          bestSnapshot = net.snapshot();
          sinceBest = 0;
        } else {
          sinceBest++;
        }
        LOG.debug(
            "epoch {}/{}: train loss {}, validation loss {}{}",
            epoch,
            cfg.maxEpochs(),
            trainLoss,
            valLoss,
            improved ? " (best)" : "");
        listener.onEpoch(epoch, cfg.maxEpochs(), trainLoss, valLoss, improved);
      }
      if (bestSnapshot == null) {
        throw new IllegalStateException(
            "training diverged: the validation loss was never finite; lower learningRate");
      }
      weights = net.toWeights(bestSnapshot, data.scaling);
    }
    LOG.info(
        "trained {} x{} H={} on {} series in {} epochs, {} ms: best validation loss {}",
        cfg.cell(),
        cfg.layers(),
        cfg.hiddenSize(),
        data.series.size(),
        epoch,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
        best);
    List<SeriesPrediction> validation = new ArrayList<>(data.series.size());
    for (int i = 0; i < data.series.size(); i++) {
      SeriesData s = data.series.get(i);
      int valStart = data.trainEnd[i];
      float[][] predicted = forward(weights, s.x());
      validation.add(
          new SeriesPrediction(
              s.id(),
              valStart,
              Arrays.copyOfRange(predicted, valStart, s.length()),
              copyRows(s.y(), valStart, s.length())));
    }
    return new TrainResult(weights, epoch, best, validation);
  }

  /** One pass of truncated BPTT over every batch; returns the mean training loss. */
  private static double trainEpoch(
      Engine engine,
      Network net,
      Optimizer adam,
      List<Batch> order,
      TrainConfig cfg,
      NDManager root) {
    NDList params = net.parameters();
    double lossSum = 0;
    long lossCount = 0;
    for (Batch batch : order) {
      try (NDManager batchManager = root.newSubManager()) {
        NDList state = net.zeroState(batchManager, batch.size());
        for (int from = 0; from < batch.trainSteps(); from += cfg.chunkLength()) {
          int to = Math.min(from + cfg.chunkLength(), batch.trainSteps());
          Batch.Window w = batch.window(from, to, false);
          try (NDManager chunk = batchManager.newSubManager()) {
            NDArray x = chunk.create(w.x(), new Shape(batch.size(), w.steps(), net.inputSize()));
            Shape yShape = new Shape(batch.size(), w.steps(), net.outputSize());
            NDArray y = chunk.create(w.y(), yShape);
            NDArray mask = chunk.create(w.mask(), yShape);
            Network.Output out;
            NDArray loss;
            try (GradientCollector collector = engine.newGradientCollector()) {
              out = net.forward(x, state, cfg.dropout(), true);
              loss = maskedLossSum(out.y(), y, mask, cfg.loss()).div((float) w.count());
              collector.backward(loss);
            }
            double value = loss.getFloat();
            if (!Double.isFinite(value)) {
              throw new IllegalStateException(
                  "training diverged: loss " + value + "; lower learningRate or gradientClip");
            }
            lossSum += value * w.count();
            lossCount += w.count();
            clipAndStep(params, adam, cfg.gradientClip(), chunk);
            // Carry the state into the next chunk without its graph: truncated BPTT.
            NDList next = new NDList();
            for (NDArray s : out.state()) {
              NDArray detached = s.stopGradient();
              detached.attach(batchManager);
              next.add(detached);
            }
            state.close();
            state = next;
          }
        }
      }
    }
    return lossSum / lossCount;
  }

  /** Scales the gradients to a global L2 norm of at most {@code maxNorm}, then steps Adam. */
  private static void clipAndStep(
      NDList params, Optimizer adam, double maxNorm, NDManager scratch) {
    NDArray[] grads = new NDArray[params.size()];
    double squares = 0;
    for (int i = 0; i < grads.length; i++) {
      grads[i] = params.get(i).getGradient();
      grads[i].attach(scratch);
      squares += grads[i].square().sum().getFloat();
    }
    double norm = Math.sqrt(squares);
    if (!Double.isFinite(norm)) {
      throw new IllegalStateException("training diverged: gradient norm " + norm);
    }
    if (norm > maxNorm) {
      float factor = (float) (maxNorm / norm);
      for (NDArray g : grads) {
        g.muli(factor);
      }
    }
    for (int i = 0; i < grads.length; i++) {
      adam.update("p" + i, params.get(i), grads[i]);
    }
  }

  /**
   * Runs every batch over whole series without dropout or gradients and returns the mean loss over
   * the validation steps, whose state has been carried from each series' first event.
   */
  private static double validationLoss(
      Network net, List<Batch> batches, TrainConfig cfg, NDManager root) {
    double sum = 0;
    long count = 0;
    for (Batch batch : batches) {
      try (NDManager batchManager = root.newSubManager()) {
        NDList state = net.zeroState(batchManager, batch.size());
        for (int from = 0; from < batch.totalSteps(); from += VALIDATION_WINDOW) {
          int to = Math.min(from + VALIDATION_WINDOW, batch.totalSteps());
          Batch.Window w = batch.window(from, to, true);
          try (NDManager window = batchManager.newSubManager()) {
            NDArray x = window.create(w.x(), new Shape(batch.size(), w.steps(), net.inputSize()));
            Network.Output out = net.forward(x, state, 0, false);
            if (w.count() > 0) {
              Shape yShape = new Shape(batch.size(), w.steps(), net.outputSize());
              NDArray y = window.create(w.y(), yShape);
              NDArray mask = window.create(w.mask(), yShape);
              sum += maskedLossSum(out.y(), y, mask, cfg.loss()).getFloat();
              count += w.count();
            }
            out.state().attach(batchManager);
            state.close();
            state = out.state();
          }
        }
      }
    }
    return sum / count;
  }

  /** Sum of the point losses where {@code mask} is 1. */
  static NDArray maskedLossSum(
      NDArray predicted, NDArray target, NDArray mask, TrainConfig.Loss loss) {
    NDArray error = predicted.sub(target);
    NDArray point;
    if (loss == TrainConfig.Loss.MSE) {
      point = error.square();
    } else {
      // Huber with delta 1: 0.5 e^2 inside [-1, 1], |e| - 0.5 outside; q = min(|e|, 1) gives both.
      NDArray abs = error.abs();
      NDArray q = abs.minimum(1f);
      point = q.square().mul(0.5f).add(abs.sub(q));
    }
    return point.mul(mask).sum();
  }

  private static float[][] copyRows(float[][] rows, int from, int to) {
    float[][] copy = new float[to - from][];
    for (int t = from; t < to; t++) {
      copy[t - from] = rows[t].clone();
    }
    return copy;
  }

  /** Validated, split and scaled series, grouped into batches. */
  private static final class Dataset {
    final List<SeriesData> series;
    final int inputSize;
    final int outputSize;
    final int[] trainEnd;
    final Scaling scaling;
    final List<Batch> batches;

    private Dataset(
        List<SeriesData> series,
        int inputSize,
        int outputSize,
        int[] trainEnd,
        Scaling scaling,
        List<Batch> batches) {
      this.series = series;
      this.inputSize = inputSize;
      this.outputSize = outputSize;
      this.trainEnd = trainEnd;
      this.scaling = scaling;
      this.batches = batches;
    }

    static Dataset prepare(List<SeriesData> input, TrainConfig cfg) {
      List<SeriesData> series = List.copyOf(input);
      if (series.isEmpty()) {
        throw new IllegalArgumentException("no series to train on");
      }
      SeriesData first = series.get(0);
      int inputSize = first.length() == 0 ? 0 : first.x()[0].length;
      int outputSize = first.length() == 0 ? 0 : first.y()[0].length;
      int minLength = minimumLength(cfg);
      Set<String> ids = new HashSet<>();
      int[] trainEnd = new int[series.size()];
      for (int i = 0; i < series.size(); i++) {
        SeriesData s = series.get(i);
        if (!ids.add(s.id())) {
          throw new IllegalArgumentException("series id '" + s.id() + "' appears more than once");
        }
        if (s.length() < minLength) {
          throw new IllegalArgumentException(
              "series '"
                  + s.id()
                  + "' has "
                  + s.length()
                  + " events, too short to split into training and validation: with chunkLength="
                  + cfg.chunkLength()
                  + " and validationFraction="
                  + cfg.validationFraction()
                  + " a series needs at least "
                  + minLength
                  + " events");
        }
        checkRows(s, "x", s.x(), inputSize);
        checkRows(s, "y", s.y(), outputSize);
        trainEnd[i] = s.length() - validationLength(s.length(), cfg.validationFraction());
      }
      if (inputSize < 1 || outputSize < 1) {
        throw new IllegalArgumentException(
            "series need at least one feature and one target; got "
                + inputSize
                + " and "
                + outputSize);
      }
      Scaling scaling = Scaling.fit(series, trainEnd, inputSize, outputSize);
      List<Batch.Prepared> prepared = new ArrayList<>(series.size());
      for (int i = 0; i < series.size(); i++) {
        SeriesData s = series.get(i);
        int n = s.length();
        float[] x = new float[n * inputSize];
        float[] y = new float[n * outputSize];
        Scaling.scaleInto(s.x(), 0, n, scaling.xMean(), scaling.xStd(), x, 0);
        Scaling.scaleInto(s.y(), 0, n, scaling.yMean(), scaling.yStd(), y, 0);
        prepared.add(new Batch.Prepared(s.id(), n, trainEnd[i], x, y));
      }
      // Similar lengths side by side keep the padding small; ties keep the input order.
      prepared.sort(Comparator.comparingInt(Batch.Prepared::trainEnd).reversed());
      List<Batch> batches = new ArrayList<>();
      for (int from = 0; from < prepared.size(); from += cfg.batchSeries()) {
        int to = Math.min(from + cfg.batchSeries(), prepared.size());
        batches.add(new Batch(prepared.subList(from, to), inputSize, outputSize));
      }
      return new Dataset(series, inputSize, outputSize, trainEnd, scaling, List.copyOf(batches));
    }

    private static void checkRows(SeriesData s, String name, float[][] rows, int width) {
      for (int t = 0; t < rows.length; t++) {
        if (rows[t] == null || rows[t].length != width) {
          throw new IllegalArgumentException(
              "series '"
                  + s.id()
                  + "': "
                  + name
                  + "["
                  + t
                  + "] has "
                  + (rows[t] == null ? "no" : String.valueOf(rows[t].length))
                  + " values, expected "
                  + width);
        }
        for (int j = 0; j < width; j++) {
          if (!Float.isFinite(rows[t][j])) {
            throw new IllegalArgumentException(
                "series '" + s.id() + "': " + name + "[" + t + "][" + j + "] is " + rows[t][j]);
          }
        }
      }
    }
  }
}
