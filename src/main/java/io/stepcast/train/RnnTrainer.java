package io.stepcast.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
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
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a stacked LSTM, GRU or simple RNN forecaster with DJL and PyTorch, the way it will be
 * served.
 *
 * <p>The server carries each series' state from its first event and advances it one event at a
 * time, so the trainer does the same: every series is unrolled from its first event over
 * consecutive chunks of {@link TrainConfig#chunkLength()} steps (truncated backpropagation through
 * time), the state carried detached from one chunk to the next, never reset. Several series run
 * side by side in a batch. The last {@link TrainConfig#testFraction()} of every series (the test
 * part) is never looked at, and the {@link TrainConfig#validationFraction()} before it is held out
 * for early stopping; the validation loss continues each series' state from the end of its training
 * part through its validation part, so the network is judged warmed up exactly as it is online.
 * Features and targets are standardised with statistics of the training parts only, and the
 * statistics travel in the {@link RnnWeights}. Adam, gradient-norm clipping, early stopping that
 * keeps the best epoch's weights.
 *
 * <p>Reproducible: the same data, config and seed give the same weights, bit for bit, in one JVM or
 * in two (the seed drives weight initialisation, batch order and PyTorch's dropout generator; every
 * tensor lives in memory PyTorch allocated, see {@link Network#tensor}). Because PyTorch's
 * generator and DJL's gradient collector are global, trainings in one JVM run one at a time.
 *
 * <p>A non-finite loss or gradient does not end the run: that update is skipped (weights and Adam's
 * moments unchanged, the gradients zeroed), the learning rate is halved for the rest of the run, a
 * series state that became non-finite restarts from zero, and the count is reported in {@link
 * TrainResult#skippedUpdates()}. Only when {@link #MAX_SKIPPED_UPDATES} updates have been skipped,
 * or no epoch ever had a finite validation loss, does training fail, with a {@link
 * DivergedException} whose message is one line with the figures and the fix.
 */
public final class RnnTrainer {

  /** The fewest training events a series may have. */
  public static final int MIN_TRAINING_EVENTS = 8;

  /** Steps per window when the validation pass runs over whole series, bounding its memory. */
  private static final int VALIDATION_WINDOW = 1024;

  /** Skipped (non-finite) updates after which a run gives up. */
  public static final int MAX_SKIPPED_UPDATES = 20;

  private static final Logger LOG = LoggerFactory.getLogger(RnnTrainer.class);
  private static final Object LOCK = new Object();

  /** Training could not continue: the message is one line, with the figures and the fix. */
  public static final class DivergedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    DivergedException(String message) {
      super(message);
    }
  }

  /**
   * A test seam that corrupts chosen updates the way an overflow inside PyTorch would: called after
   * the backward pass of every update (counted from 1), it may change the gradients of {@code
   * params} in place and returns the loss value the trainer should see.
   */
  interface Fault {
    /** No corruption. */
    Fault NONE = (update, loss, params) -> loss;

    double apply(int update, double loss, NDList params);
  }

  private final Fault fault;

  /** A trainer. */
  public RnnTrainer() {
    this(Fault.NONE);
  }

  /** A trainer whose updates {@code fault} may corrupt (tests only). */
  RnnTrainer(Fault fault) {
    this.fault = Objects.requireNonNull(fault, "fault");
  }

  /**
   * Trains on {@code series} and returns the best epoch's weights.
   *
   * @throws IllegalArgumentException when the series are empty, inconsistent, contain non-finite
   *     values, repeat an id, or one is too short to split into training and validation (the
   *     message names the series and its length)
   * @throws DivergedException when training cannot continue: too many non-finite updates, or no
   *     finite validation loss
   */
  public TrainResult train(List<SeriesData> series, TrainConfig cfg, TrainingListener listener) {
    Objects.requireNonNull(series, "series");
    Objects.requireNonNull(cfg, "cfg");
    Objects.requireNonNull(listener, "listener");
    Dataset data = Dataset.prepare(series, cfg);
    synchronized (LOCK) {
      Member first = run(data, cfg, listener);
      if (cfg.ensemble() == 1) {
        return result(data, cfg, first.weights, first);
      }
      List<RnnWeights> members = new ArrayList<>(cfg.ensemble());
      members.add(first.weights);
      int epochs = first.epochs;
      int skipped = first.skipped;
      double learningRate = first.learningRate;
      for (int m = 1; m < cfg.ensemble(); m++) {
        Member next = run(data, cfg.withSeed(cfg.seed() + m), listener);
        members.add(next.weights);
        epochs += next.epochs;
        skipped += next.skipped;
        learningRate = Math.min(learningRate, next.learningRate);
      }
      RnnWeights merged = Ensemble.average(members);
      double loss;
      try (NDManager manager = DjlEngine.get().newBaseManager()) {
        loss = validationLoss(Network.of(manager, merged), data.batches, cfg, manager);
      }
      LOG.info(
          "averaged {} networks into one of {} units per layer: validation loss {} (first alone"
              + " {})",
          members.size(),
          merged.hiddenSize(),
          loss,
          first.bestLoss);
      return result(data, cfg, merged, new Member(merged, epochs, loss, skipped, learningRate));
    }
  }

  /** One network's training: its best weights, epochs run, best loss and recovery figures. */
  private record Member(
      RnnWeights weights, int epochs, double bestLoss, int skipped, double learningRate) {}

  /** The result for {@code weights}, with their forecasts over every validation part. */
  private static TrainResult result(
      Dataset data, TrainConfig cfg, RnnWeights weights, Member figures) {
    List<SeriesPrediction> validation = new ArrayList<>(data.series.size());
    for (int i = 0; i < data.series.size(); i++) {
      SeriesData s = data.series.get(i);
      int valStart = data.trainEnd[i];
      int valEnd = validationEnd(s.length(), cfg);
      float[][] predicted = forward(weights, Arrays.copyOfRange(s.x(), 0, valEnd));
      validation.add(
          new SeriesPrediction(
              s.id(),
              valStart,
              Arrays.copyOfRange(predicted, valStart, valEnd),
              copyRows(s.y(), valStart, valEnd)));
    }
    return new TrainResult(
        weights,
        figures.epochs,
        figures.bestLoss,
        validation,
        figures.skipped,
        figures.learningRate);
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
      NDArray input = Network.tensor(manager, scaled, new Shape(1, n, in));
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
   * one full chunk for training, and one each for validation and (when configured) test.
   */
  public static int minimumLength(TrainConfig cfg) {
    int minTrain = Math.max(MIN_TRAINING_EVENTS, cfg.chunkLength());
    int n = minTrain + 1;
    while (trainEnd(n, cfg) < minTrain) {
      n++;
    }
    return n;
  }

  /** Validation events of a series of {@code n} events: the rounded fraction, at least one. */
  static int validationLength(int n, double fraction) {
    return Math.max(1, (int) Math.round(n * fraction));
  }

  /** Test events of a series of {@code n} events: none, or the rounded fraction, at least one. */
  static int testLength(int n, double fraction) {
    return fraction == 0 ? 0 : Math.max(1, (int) Math.round(n * fraction));
  }

  /**
   * The end of the validation part of a series of {@code n} events, where its test part starts:
   * rows {@code [validationEnd, n)} are never trained on nor used to pick the epoch.
   */
  public static int validationEnd(int n, TrainConfig cfg) {
    return n - testLength(n, cfg.testFraction());
  }

  /** The end of the training part of a series of {@code n} events: the first validation row. */
  public static int trainEnd(int n, TrainConfig cfg) {
    return validationEnd(n, cfg) - validationLength(n, cfg.validationFraction());
  }

  private Member run(Dataset data, TrainConfig cfg, TrainingListener listener) {
    Engine engine = DjlEngine.get();
    // Autograd's on/off switch is per thread in PyTorch; record graphs only inside the collector.
    JniUtils.setGradMode(false);
    engine.setRandomSeed(Long.hashCode(cfg.seed()));
    long start = System.nanoTime();
    RnnWeights weights;
    int epoch = 0;
    double best = Double.POSITIVE_INFINITY;
    Recovery recovery = new Recovery(cfg.learningRate());
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
      Optimizer adam = Optimizer.adam().optLearningRateTracker(recovery).build();
      Random shuffle = new Random(cfg.seed());
      List<Batch> order = new ArrayList<>(data.batches);
      float[][] bestSnapshot = null;
      int sinceBest = 0;
      while (epoch < cfg.maxEpochs() && sinceBest < cfg.patience()) {
        epoch++;
        Collections.shuffle(order, shuffle);
        double trainLoss = trainEpoch(engine, net, adam, order, cfg, root, recovery, epoch);
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
        throw new DivergedException(
            "training diverged: the validation loss was never finite in "
                + epoch
                + " epochs ("
                + recovery.summary()
                + "); "
                + (recovery.skipped == 0
                    ? "a target in the validation part is far outside the training part's range:"
                        + " look for an outlier or a change of units there"
                    : Recovery.FIX));
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
    return new Member(weights, epoch, best, recovery.skipped, recovery.learningRate);
  }

  /** One pass of truncated BPTT over every batch; returns the mean training loss. */
  private double trainEpoch(
      Engine engine,
      Network net,
      Optimizer adam,
      List<Batch> order,
      TrainConfig cfg,
      NDManager root,
      Recovery recovery,
      int epoch) {
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
            NDArray x =
                Network.tensor(chunk, w.x(), new Shape(batch.size(), w.steps(), net.inputSize()));
            Shape yShape = new Shape(batch.size(), w.steps(), net.outputSize());
            NDArray y = Network.tensor(chunk, w.y(), yShape);
            NDArray mask = Network.tensor(chunk, w.mask(), yShape);
            Network.Output out;
            NDArray loss;
            try (GradientCollector collector = engine.newGradientCollector()) {
              out = net.forward(x, state, cfg.dropout(), true);
              loss = maskedLossSum(out.y(), y, mask, cfg.loss()).div((float) w.count());
              collector.backward(loss);
            }
            int update = recovery.nextUpdate();
            double value = fault.apply(update, loss.getFloat(), params);
            double norm = Double.isFinite(value) ? gradientNorm(params, chunk) : Double.NaN;
            boolean stateFinite = isFinite(out.state());
            if (Double.isFinite(norm) && stateFinite) {
              lossSum += value * w.count();
              lossCount += w.count();
              clipAndStep(params, adam, cfg.gradientClip(), norm, chunk);
            } else {
              // Adam zeroes the gradients it consumes; a skipped update must do so itself, with
              // zero_() (DJL's own g - g would turn an infinite gradient into NaN for good).
              for (NDArray p : params) {
                JniUtils.zeroGrad((PtNDArray) p);
              }
              recovery.skip(
                  String.format(
                      Locale.ROOT,
                      "epoch %d, steps %d-%d: loss %s, gradient norm %s",
                      epoch,
                      from,
                      to,
                      value,
                      norm));
            }
            // Carry the state into the next chunk without its graph: truncated BPTT. A state that
            // overflowed cannot be carried: those series start again from zero.
            NDList next;
            if (stateFinite) {
              next = new NDList();
              for (NDArray s : out.state()) {
                NDArray detached = s.stopGradient();
                detached.attach(batchManager);
                next.add(detached);
              }
            } else {
              next = net.zeroState(batchManager, batch.size());
            }
            state.close();
            state = next;
          }
        }
      }
    }
    return lossCount == 0 ? Double.NaN : lossSum / lossCount;
  }

  /**
   * The global L2 norm of the gradients, summed in double precision: float32 squares overflow to
   * infinity from a gradient of 1.8e19, which is large but finite and clipped like any other.
   * Infinity or NaN only when a gradient itself is not finite.
   */
  private static double gradientNorm(NDList params, NDManager scratch) {
    double squares = 0;
    for (NDArray p : params) {
      NDArray g = p.getGradient();
      g.attach(scratch);
      squares += g.toType(DataType.FLOAT64, false).square().sum().getDouble();
    }
    return Math.sqrt(squares);
  }

  private static boolean isFinite(NDList tensors) {
    double sum = 0;
    for (NDArray t : tensors) {
      sum += t.abs().sum().toType(DataType.FLOAT64, false).getDouble();
    }
    return Double.isFinite(sum);
  }

  /** Scales the gradients to a global L2 norm of at most {@code maxNorm}, then steps Adam. */
  private static void clipAndStep(
      NDList params, Optimizer adam, double maxNorm, double norm, NDManager scratch) {
    NDArray[] grads = new NDArray[params.size()];
    for (int i = 0; i < grads.length; i++) {
      grads[i] = params.get(i).getGradient();
      grads[i].attach(scratch);
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
   * The learning rate Adam reads, and what was done about non-finite updates: each one halves the
   * rate for the rest of the run; {@link #MAX_SKIPPED_UPDATES} of them end it.
   */
  private static final class Recovery implements Tracker {
    static final String FIX =
        "lower training.learningRate or training.gradientClip, or use loss: huber";

    private final double initial;
    private double learningRate;
    private int updates;
    private int skipped;
    private String first;

    Recovery(double learningRate) {
      this.initial = learningRate;
      this.learningRate = learningRate;
    }

    @Override
    public float getNewValue(int numUpdate) {
      return (float) learningRate;
    }

    int nextUpdate() {
      return ++updates;
    }

    void skip(String where) {
      skipped++;
      if (first == null) {
        first = where;
      }
      learningRate /= 2;
      LOG.warn(
          "non-finite update skipped ({}); learning rate lowered to {} ({} skipped so far)",
          where,
          learningRate,
          skipped);
      if (skipped >= MAX_SKIPPED_UPDATES) {
        throw new DivergedException("training diverged: " + summary() + "; " + FIX);
      }
    }

    String summary() {
      if (skipped == 0) {
        return "no update had a non-finite gradient";
      }
      return String.format(
          Locale.ROOT,
          "%d of %d updates had a non-finite loss or gradient (first at %s), the learning rate"
              + " was lowered from %s to %.3g",
          skipped,
          updates,
          first,
          initial,
          learningRate);
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
            NDArray x =
                Network.tensor(window, w.x(), new Shape(batch.size(), w.steps(), net.inputSize()));
            Network.Output out = net.forward(x, state, 0, false);
            if (w.count() > 0) {
              Shape yShape = new Shape(batch.size(), w.steps(), net.outputSize());
              NDArray y = Network.tensor(window, w.y(), yShape);
              NDArray mask = Network.tensor(window, w.mask(), yShape);
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
    } else if (loss == TrainConfig.Loss.MAE) {
      point = error.abs();
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
                  + ", validationFraction="
                  + cfg.validationFraction()
                  + " and testFraction="
                  + cfg.testFraction()
                  + " a series needs at least "
                  + minLength
                  + " events");
        }
        checkRows(s, "x", s.x(), inputSize, false);
        checkRows(s, "y", s.y(), outputSize, true);
        trainEnd[i] = trainEnd(s.length(), cfg);
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
        prepared.add(new Batch.Prepared(s.id(), n, trainEnd[i], validationEnd(n, cfg), x, y));
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

    private static void checkRows(
        SeriesData s, String name, float[][] rows, int width, boolean labels) {
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
          // A NaN label is one past the series' end (a far horizon): it is masked out.
          if (!Float.isFinite(rows[t][j]) && !(labels && Float.isNaN(rows[t][j]))) {
            throw new IllegalArgumentException(
                "series '" + s.id() + "': " + name + "[" + t + "][" + j + "] is " + rows[t][j]);
          }
        }
      }
    }
  }
}
