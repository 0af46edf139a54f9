package io.stepcast.engine;

import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.AnomalyPolicy;
import io.stepcast.config.TopologySpec.MissingPolicy;
import io.stepcast.config.TopologySpec.OnSwap;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.Rejection;
import io.stepcast.features.SeriesCalendar;
import io.stepcast.model.ModelException;
import io.stepcast.model.StepModel;
import io.stepcast.model.Stepper;
import io.stepcast.state.ModelId;
import io.stepcast.state.SeriesState;
import java.time.Instant;
import java.util.List;

/**
 * The per-series step, the one piece of code every runtime calls: the live forecaster (Kafka glue
 * in {@code topology}), the trainer's serving-parity replay and promotion gate, the state API's
 * multi-step forecast and the demo. No Kafka, HTTP or trainer types: it sits between {@code
 * features}, {@code model} and {@code state} and their users.
 *
 * <p>For one event of one series it rejects late and duplicate events, carries missing fields
 * forward, warms the series up on a new model (burn-in from its recent inputs) or resets it, scores
 * the previous forecast against the actual value, computes the features, advances the network one
 * step and updates the state. It also calibrates the series' prediction intervals from the scored
 * errors ({@link IntervalCalibration}) and applies the anomaly policy to an actual outside the
 * widest interval: {@code flag} steps on it, {@code hold} steps on the forecast made for it
 * instead, {@code dead_letter} refuses the event ({@link Rejection#ANOMALY}) after scoring it, so
 * the calibration still learns the miss (otherwise the widest interval would shrink with every
 * covered actual until every actual is an anomaly).
 *
 * <p>Staged for batching: {@link #stage} does everything up to the features of one event into a
 * batch slot, {@link #run} steps every staged series in one ONNX Runtime call and finishes them,
 * then the caller reads each slot and calls {@link #clear}. A batch never holds a series twice (the
 * second event depends on the first one's step): {@link #isStaged} tells the caller to run first.
 * With {@code maxBatch} 1 it is the plain one-event-at-a-time step.
 *
 * <p>Not thread-safe: one engine per stream task (or per replay). It steps with the model given to
 * {@link #use} and does not own it; it owns its {@link Stepper}.
 */
public final class StepEngine implements AutoCloseable {
  private final FeaturePipeline pipeline;
  private final List<String> fieldNames;
  private final boolean carryForward;
  private final boolean burnInOnSwap;
  private final int recentCapacity;
  private final boolean keepRecent;
  private final int width;
  private final SeriesCalendar calendar;
  private final int targets;
  private final int[] horizons;
  private final int outputs;
  private final boolean multi;
  private final double[] slotActuals;
  private final double[] slotForecasts;
  private final double[] pastForecasts;
  private final double[] pastActuals;
  private final long[] forTimes;
  private final double[] scores;
  private final int maxBatch;
  private final RecentInputs recent;
  private final StepListener listener;
  private final double[] lagged;
  private final int rowScores;
  // With several horizons: the half-widths published with each further-horizon forecast, kept
  // with its row so the event that scores it learns from the interval as published.
  private final int published;
  private final double[] lagScores;
  private final IntervalCalibration intervals;
  private final AnomalyPolicy anomalyPolicy;
  private final float[] x;
  private final float[] replay;
  private final float[] replayRow;
  private float[] y1;

  private StepModel model;
  private Stepper stepper;
  private String version;
  private int modelId;
  private int[] stateSizes;
  private float[][] states;
  private float[] y;
  private int outputSize;
  private long burnIn;

  private int staged;
  private final String[] ids;
  private final SeriesState[] slotStates;
  private final long[] eventTime;
  private final double[] actual;
  private final double[] previousForecast;
  private final double[] previousActual;
  private final double[] forecast;
  private final double[] base;
  private final boolean[] added;
  private final boolean[] anomaly;
  private final boolean[] held;
  private final double[] halfWidths;
  private final boolean[] slotIntervalsWarm;
  private final double[] outputHalfWidths;
  private final boolean[] outputIntervalsWarm;
  private SeriesState refusedState;

  private Rejection refusal;
  private String refusalMessage;

  /**
   * @param spec the pipeline
   * @param maxBatch the most series stepped in one call (1: no batching)
   * @param recent where recent inputs are kept for burn-in and lag features ({@link
   *     RecentInputs#NONE}: none; lag features then fall back to persistence)
   * @param listener told of steps, scores and burn-ins
   */
  public StepEngine(TopologySpec spec, int maxBatch, RecentInputs recent, StepListener listener) {
    this(spec, maxBatch, recent, listener, true);
  }

  /**
   * @param applyAnomalyPolicy false: every actual steps the series whatever {@code
   *     policies.anomaly} says (anomalies are still marked): the trainer's parity replay, which
   *     must step exactly what the trainer learned from
   */
  public StepEngine(
      TopologySpec spec,
      int maxBatch,
      RecentInputs recent,
      StepListener listener,
      boolean applyAnomalyPolicy) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
    }
    this.pipeline = new FeaturePipeline(spec);
    this.fieldNames = FeaturePipeline.inputFields(spec);
    this.carryForward = spec.policies().missing() == MissingPolicy.CARRY_FORWARD;
    this.burnInOnSwap = spec.model().onSwap() == OnSwap.BURN_IN;
    this.recentCapacity = spec.model().ringBuffer();
    this.lagged = new double[pipeline.lagCount()];
    this.targets = pipeline.targetCount();
    this.horizons = pipeline.horizons();
    this.outputs = pipeline.outputCount();
    this.multi = outputs > 1;
    int levels = spec.intervals().levels().size();
    this.published = multi ? targets * (horizons.length - 1) * levels : 0;
    this.rowScores = multi ? targets + outputs + published : targets;
    this.lagScores = new double[rowScores];
    // Several outputs keep rows to score horizons with, lags to read the actuals kept with them,
    // whatever the swap policy.
    this.keepRecent =
        recent != RecentInputs.NONE
            && ((burnInOnSwap && recentCapacity > 0) || multi || lagged.length > 0);
    this.width = pipeline.width();
    this.calendar = SeriesCalendar.of(spec);
    this.slotActuals = new double[maxBatch * targets];
    this.slotForecasts = new double[maxBatch * outputs];
    this.pastForecasts = new double[maxBatch * outputs];
    this.pastActuals = new double[maxBatch * outputs];
    this.forTimes = new long[maxBatch * horizons.length];
    this.scores = new double[targets + outputs + published];
    this.maxBatch = maxBatch;
    this.recent = recent;
    this.listener = listener;
    this.intervals = new IntervalCalibration(spec.intervals(), targets, horizons);
    this.anomalyPolicy = applyAnomalyPolicy ? spec.policies().anomaly() : AnomalyPolicy.FLAG;
    this.x = new float[maxBatch * width];
    this.replay = new float[Math.max(1, recentCapacity) * width];
    this.replayRow = new float[width];
    this.ids = new String[maxBatch];
    this.slotStates = new SeriesState[maxBatch];
    this.eventTime = new long[maxBatch];
    this.actual = new double[maxBatch];
    this.previousForecast = new double[maxBatch];
    this.previousActual = new double[maxBatch];
    this.forecast = new double[maxBatch];
    this.base = new double[maxBatch];
    this.added = new boolean[maxBatch];
    this.anomaly = new boolean[maxBatch];
    this.held = new boolean[maxBatch];
    this.halfWidths = new double[maxBatch * intervals.size()];
    this.slotIntervalsWarm = new boolean[maxBatch];
    this.outputHalfWidths = new double[multi ? maxBatch * outputs * intervals.size() : 0];
    this.outputIntervalsWarm = new boolean[multi ? maxBatch * outputs : 0];
  }

  /** The feature pipeline the engine computes inputs with. */
  public FeaturePipeline pipeline() {
    return pipeline;
  }

  /** The prediction interval levels and their calibration. */
  public IntervalCalibration intervals() {
    return intervals;
  }

  /** The most series stepped in one call. */
  public int maxBatch() {
    return maxBatch;
  }

  /**
   * Steps with {@code next} from now on. The caller keeps owning the model and must not close it
   * while this engine uses it. Nothing may be staged.
   *
   * @throws IllegalArgumentException when the model does not fit the pipeline's feature width
   */
  public void use(StepModel next) {
    if (next == model) {
      return;
    }
    if (staged > 0) {
      throw new IllegalStateException("run the staged batch before changing the model");
    }
    if (next.inputSize() != width) {
      throw new IllegalArgumentException(
          "model "
              + next.version()
              + " takes "
              + next.inputSize()
              + " features, the pipeline computes "
              + width);
    }
    if (next.outputSize() != outputs) {
      throw new IllegalArgumentException(
          "model "
              + next.version()
              + " has "
              + next.outputSize()
              + " outputs, the pipeline forecasts "
              + pipeline.outputNames());
    }
    closeStepper();
    model = next;
    version = next.version();
    modelId = ModelId.of(version);
    stepper = next.newStepper(maxBatch);
    stateSizes = new int[next.stateCount()];
    states = new float[stateSizes.length][];
    for (int i = 0; i < stateSizes.length; i++) {
      stateSizes[i] = next.stateSize(i);
      states[i] = new float[maxBatch * stateSizes[i]];
    }
    outputSize = next.outputSize();
    y = new float[maxBatch * outputSize];
    y1 = new float[outputSize];
    burnIn = next.spec().burnIn();
  }

  /** The model the engine steps with; null before {@link #use}. */
  public StepModel model() {
    return model;
  }

  /** A fresh state for a series never seen: zero recurrent state, nothing remembered. */
  public SeriesState newState() {
    requireModel();
    return SeriesState.fresh(modelId, stateSizes, fieldNames.size());
  }

  /**
   * Checks one event of a series and stages it: late and duplicate checks, carry-forward, burn-in
   * or reset after a model change, scoring of the previous forecast, the features. Returns its
   * slot, or -1 when the event is refused (then {@link #refusal()} says why and the state is
   * untouched).
   *
   * @param state the series' state, or null for a series never seen (a fresh one is made)
   */
  public int stage(String id, Event ev, SeriesState state) {
    requireModel();
    refusedState = null;
    if (staged == maxBatch) {
      throw new IllegalStateException("the batch is full: run it first");
    }
    SeriesState st = state;
    if (st != null && st.hasPrevious()) {
      if (ev.timeMillis() < st.lastEventTime()) {
        return refuse(
            Rejection.LATE,
            "event time "
                + Instant.ofEpochMilli(ev.timeMillis())
                + " is before the series' last event at "
                + Instant.ofEpochMilli(st.lastEventTime()));
      }
      if (ev.timeMillis() == st.lastEventTime()) {
        return refuse(
            Rejection.DUPLICATE,
            "the series already has an event at " + Instant.ofEpochMilli(ev.timeMillis()));
      }
    }
    boolean fresh = st == null;
    if (fresh) {
      st = newState();
    }
    if (carryForward) {
      int missing = pipeline.carryForward(ev, st);
      if (missing >= 0) {
        return refuse(
            Rejection.MISSING_FIELD,
            "field '"
                + fieldNames.get(missing)
                + "' is missing and the series has no earlier value to carry forward");
      }
    }
    int slot = staged;
    double prevForecast = st.lastForecast();
    double prevActual = st.hasPrevious() ? st.lastTarget() : Double.NaN;
    double observed = ev.target();
    boolean outside = false;
    boolean hold = false;
    // Score before a rebuild: the forecast made by the old model is what this event labels.
    if (!Double.isNaN(prevForecast)) {
      double absError = Math.abs(observed - prevForecast);
      st.score(observed);
      listener.scored(absError, Math.abs(observed - prevActual));
      outside = intervals.score(st, absError, listener);
      if (outside) {
        listener.anomaly(anomalyPolicy);
        if (anomalyPolicy == AnomalyPolicy.DEAD_LETTER) {
          // Scored and learnt from (the caller stores the state), but not stepped on.
          refusedState = st;
          return refuse(
              Rejection.ANOMALY,
              "actual "
                  + observed
                  + " is outside the widest prediction interval ("
                  + intervals.level(intervals.widest())
                  + ") of the forecast "
                  + prevForecast
                  + " made for it");
        }
        if (anomalyPolicy == AnomalyPolicy.HOLD) {
          hold = true;
          ev.replaceTarget(prevForecast);
        }
      }
    }
    if (multi) {
      scoreHorizons(id, ev, observed, st, slot);
    }
    if (!st.madeBy(modelId)) {
      rebuild(id, st);
    }
    int off = slot * width;
    for (int i = 0; i < lagged.length; i++) {
      lagged[i] = lagTarget(id, st.steps() - (pipeline.lag(i) - 1));
    }
    pipeline.features(ev, st, lagged, x, off);
    for (int i = 0; i < stateSizes.length; i++) {
      System.arraycopy(st.states()[i], 0, states[i], slot * stateSizes[i], stateSizes[i]);
    }
    if (!multi) {
      // Lags read the actual as observed (also when policies.anomaly holds it), as horizons do.
      scores[0] = observed;
      keepRow(id, st, off, slot);
    }
    pipeline.remember(ev, st);
    if (multi) {
      // No interval yet: previous == time, so every horizon's time is UNKNOWN.
      long previous = ev.timeMillis() - Math.max(0, st.lastIntervalMs());
      calendar.ahead(previous, ev.timeMillis(), horizons, forTimes, slot * horizons.length);
    }
    ids[slot] = id;
    slotStates[slot] = st;
    eventTime[slot] = ev.timeMillis();
    actual[slot] = observed;
    base[slot] = ev.target();
    anomaly[slot] = outside;
    held[slot] = hold;
    publishIntervals(st, slot);
    previousForecast[slot] = prevForecast;
    previousActual[slot] = prevActual;
    added[slot] = fresh;
    staged++;
    return slot;
  }

  /**
   * Keeps the half-widths and warm flags of the intervals published with the slot's forecasts: the
   * calibration after this event's scoring and any swap.
   */
  private void publishIntervals(SeriesState st, int slot) {
    int levels = intervals.size();
    boolean ready = intervals.ready(st);
    for (int i = 0; i < levels; i++) {
      halfWidths[slot * levels + i] = ready ? intervals.halfWidth(st, i) : Double.NaN;
    }
    slotIntervalsWarm[slot] = levels > 0 && intervals.warm(st, 0, true);
    if (!multi) {
      return;
    }
    for (int o = 0; o < outputs; o++) {
      boolean has = intervals.ready(st, o);
      int at = (slot * outputs + o) * levels;
      for (int i = 0; i < levels; i++) {
        outputHalfWidths[at + i] = has ? intervals.halfWidth(st, o, i) : Double.NaN;
      }
      outputIntervalsWarm[slot * outputs + o] = has && intervals.warm(st, o, true);
    }
  }

  /** Whether a series is in the staged batch (run the batch before staging it again). */
  public boolean isStaged(String id) {
    for (int i = 0; i < staged; i++) {
      if (ids[i].equals(id)) {
        return true;
      }
    }
    return false;
  }

  /** Number of staged series. */
  public int staged() {
    return staged;
  }

  /** Whether the batch is full. */
  public boolean isFull() {
    return staged == maxBatch;
  }

  /**
   * Steps every staged series in one ONNX Runtime call and finishes them: forecast, state update.
   * The slots stay readable until {@link #clear}.
   *
   * @throws IllegalStateException when ONNX Runtime fails on a validated model (a bug or a broken
   *     runtime: fail loudly)
   */
  public void run() {
    if (staged == 0) {
      return;
    }
    long t0 = System.nanoTime();
    step(staged, x, states, y);
    listener.step(System.nanoTime() - t0, staged);
    for (int s = 0; s < staged; s++) {
      SeriesState st = slotStates[s];
      for (int i = 0; i < stateSizes.length; i++) {
        System.arraycopy(states[i], s * stateSizes[i], st.states()[i], 0, stateSizes[i]);
      }
      double f = pipeline.forecast(y[s * outputSize], base[s]);
      forecast[s] = f;
      if (multi) {
        finishOutputs(s, st);
      }
      st.advance(modelId, f);
    }
  }

  /**
   * Maps every output of a slot to its target's units, keeps the row with the actuals and the
   * forecasts (before the state counts this step) and the further targets' next-event forecasts.
   */
  private void finishOutputs(int s, SeriesState st) {
    int h = horizons.length;
    for (int j = 0; j < targets; j++) {
      // Forecasts build on what the series stepped on (a held first target: its forecast); the
      // row keeps what was observed, which persistence h events later is scored with.
      double current = j == 0 ? base[s] : slotActuals[s * targets + j];
      scores[j] = slotActuals[s * targets + j];
      for (int k = 0; k < h; k++) {
        int o = j * h + k;
        double f = pipeline.forecast(j, y[s * outputSize + o], current);
        slotForecasts[s * outputs + o] = f;
        scores[targets + o] = f;
      }
    }
    int levels = intervals.size();
    for (int j = 0; j < targets && published > 0; j++) {
      for (int k = 1; k < h; k++) {
        System.arraycopy(
            outputHalfWidths,
            outputOffset(s, j, k),
            scores,
            targets + outputs + (j * (h - 1) + k - 1) * levels,
            levels);
      }
    }
    keepRow(ids[s], st, s * width, s);
    if (targets > 1) {
      for (int j = 1; j < targets; j++) {
        scores[j - 1] = slotForecasts[s * outputs + j * h];
      }
      st.alsoForecasts(scores, 0, targets - 1);
    }
  }

  /**
   * Keeps the slot's input row for burn-in (with several outputs, with the actuals and forecasts in
   * {@link #scores}), or drops a format v1 ring when rows are not kept.
   */
  private void keepRow(String id, SeriesState st, int off, int slot) {
    if (keepRecent) {
      if (multi || lagged.length > 0) {
        recent.write(id, st, x, off, width, scores, 0, rowScores);
      } else {
        recent.write(id, st, x, off, width);
      }
    } else if (st.legacyRows() > 0) {
      st.dropLegacyRows();
    }
  }

  /**
   * Scores, for every target and horizon h, the forecast made h events ago against this event's
   * actual value (and persistence: the actual h events ago), from the rows kept with the scores.
   */
  private void scoreHorizons(String id, Event ev, double observed, SeriesState st, int slot) {
    int h = horizons.length;
    // The first target as observed, also when policies.anomaly holds it (the event then steps on
    // the forecast instead).
    slotActuals[slot * targets] = observed;
    for (int j = 1; j < targets; j++) {
      slotActuals[slot * targets + j] = pipeline.target(ev, j);
    }
    int levels = intervals.size();
    for (int k = 0; k < h; k++) {
      long step = st.steps() - horizons[k];
      int kept = step >= 0 ? readScores(id, step, scores) : 0;
      boolean got = kept > 0;
      for (int j = 0; j < targets; j++) {
        int o = slot * outputs + j * h + k;
        if (got) {
          double a = slotActuals[slot * targets + j];
          pastActuals[o] = scores[j];
          pastForecasts[o] = scores[targets + j * h + k];
          if (!Double.isNaN(pastForecasts[o])) {
            double absError = Math.abs(a - pastForecasts[o]);
            listener.scoredHorizon(j, k, absError, Math.abs(a - scores[j]));
            // The bounds published with it (rows written before they were kept: none).
            int at = targets + outputs + (j * (h - 1) + k - 1) * levels;
            intervals.scoreOutput(
                st, j * h + k, absError, k > 0 && kept == rowScores ? scores : null, at, listener);
          }
        } else {
          pastActuals[o] = Double.NaN;
          pastForecasts[o] = Double.NaN;
        }
      }
    }
  }

  /** Empties the batch. */
  public void clear() {
    for (int i = 0; i < staged; i++) {
      ids[i] = null;
      slotStates[i] = null;
    }
    staged = 0;
  }

  /** The series id in a slot. */
  public String id(int slot) {
    return ids[slot];
  }

  /** The state of the series in a slot (advanced once {@link #run} has run). */
  public SeriesState state(int slot) {
    return slotStates[slot];
  }

  /** Whether the slot's series was never seen before this event. */
  public boolean isNew(int slot) {
    return added[slot];
  }

  /** The event time of a slot. */
  public long eventTime(int slot) {
    return eventTime[slot];
  }

  /** The actual target value in the slot's event. */
  public double actual(int slot) {
    return actual[slot];
  }

  /** The forecast of the next target made at this event, in the target's own units. */
  public double forecast(int slot) {
    return forecast[slot];
  }

  /**
   * Whether the slot's actual fell outside the widest prediction interval of the forecast it scores
   * (false when there was none).
   */
  public boolean anomaly(int slot) {
    return anomaly[slot];
  }

  /** Whether the slot's anomalous actual was held: the series stepped on its forecast instead. */
  public boolean held(int slot) {
    return held[slot];
  }

  /**
   * The half-widths of the prediction intervals around the slot's forecast, one per level in the
   * spec's order, at {@code halfWidths()[slot * intervals().size() + level]}; NaN while the series
   * has none (before its first scored error). Read-only; reused by the next batch.
   */
  public double[] halfWidths() {
    return halfWidths;
  }

  /**
   * Whether the slot's intervals are warm: enough errors scored (see {@code intervals.warmUp}) and,
   * after a model swap, enough of the new model's ({@code intervals.swapWarmUp}).
   */
  public boolean intervalsWarm(int slot) {
    return slotIntervalsWarm[slot];
  }

  /**
   * The half-widths of the intervals around every output's forecast (several outputs only), one per
   * level in the spec's order, from {@link #outputOffset}; NaN while that output has none (before
   * its first scored error). Read-only; reused by the next batch.
   */
  public double[] outputHalfWidths() {
    return outputHalfWidths;
  }

  /**
   * Where target {@code j}'s half-widths at the {@code k}-th horizon start in {@link
   * #outputHalfWidths}.
   */
  public int outputOffset(int slot, int j, int k) {
    return (slot * outputs + j * horizons.length + k) * intervals.size();
  }

  /**
   * Whether the intervals of target {@code j}'s forecast at the {@code k}-th horizon are warm: that
   * output has scored {@code intervals.warmUp} errors (and, after a swap, {@code
   * intervals.swapWarmUp} of the new model's).
   */
  public boolean intervalsWarm(int slot, int j, int k) {
    return outputIntervalsWarm[slot * outputs + j * horizons.length + k];
  }

  /** The forecast made at the series' previous event (NaN: none); this event labels it. */
  public double previousForecast(int slot) {
    return previousForecast[slot];
  }

  /** The target of the series' previous event (NaN: none). */
  public double previousActual(int slot) {
    return previousActual[slot];
  }

  /** Whether the pipeline forecasts more than one target or horizon. */
  public boolean multiOutput() {
    return multi;
  }

  /** Number of targets. */
  public int targetCount() {
    return targets;
  }

  /** Number of horizons. */
  public int horizonCount() {
    return horizons.length;
  }

  /** The value of target {@code j} in the slot's event (several outputs only). */
  public double actual(int slot, int j) {
    return slotActuals[slot * targets + j];
  }

  /** The forecast of target {@code j} at the {@code k}-th horizon made at this event. */
  public double forecast(int slot, int j, int k) {
    return slotForecasts[slot * outputs + j * horizons.length + k];
  }

  /**
   * The forecast of target {@code j} at the {@code k}-th horizon made {@code horizon(k)} events
   * before this one, which this event labels (NaN: none kept).
   */
  public double pastForecast(int slot, int j, int k) {
    return pastForecasts[slot * outputs + j * horizons.length + k];
  }

  /** Target {@code j}'s value {@code horizon(k)} events before this one (NaN: none kept). */
  public double pastActual(int slot, int j, int k) {
    return pastActuals[slot * outputs + j * horizons.length + k];
  }

  /**
   * The time the {@code k}-th horizon's forecasts are for, on the series' calendar; {@link
   * SeriesCalendar#UNKNOWN} before the series has an interval.
   */
  public long forTime(int slot, int k) {
    return forTimes[slot * horizons.length + k];
  }

  /** Whether the slot's state is warm: it has absorbed at least the model's burn-in length. */
  public boolean warm(int slot) {
    return slotStates[slot].modelSteps() >= burnIn;
  }

  /** Why the last {@link #stage} returned -1. */
  public Rejection refusal() {
    return refusal;
  }

  /** A human-readable explanation of the last refusal. */
  public String refusalMessage() {
    return refusalMessage;
  }

  /**
   * One event at a time: stages and runs it. Returns its slot (0), or -1 when refused. The caller
   * reads the slot and then {@link #clear}s.
   */
  public int stepOne(String id, Event ev, SeriesState state) {
    int slot = stage(id, ev, state);
    if (slot >= 0) {
      run();
    }
    return slot;
  }

  /**
   * Rolls {@code steps} forecasts forward from a copy of a live state without changing it: each
   * step feeds the previous forecasts back as the next event's targets, with the input fields
   * carried forward and the time advanced by the series' last interval on its calendar ({@code
   * timestamp.calendar}). A lag feature reads the series' kept actuals, then the forecasts rolled
   * so far. The first forecasts are the ones the series made at its last event. Nothing is scored,
   * recorded or reported.
   *
   * @param times receives the time each step is for
   * @param forecasts receives the forecasts, {@link #targetCount()} per step: {@code forecasts[k *
   *     targetCount() + j]} is target {@code j} at step {@code k + 1}; at least {@code steps *
   *     targetCount()} long
   * @return the number of steps written (fewer than {@code steps} once a forecast is not a number)
   */
  public int roll(String id, SeriesState live, int steps, long[] times, double[] forecasts) {
    requireModel();
    if (staged > 0) {
      throw new IllegalStateException("run the staged batch before rolling a forecast");
    }
    SeriesState st = live.copy();
    float[] carried = st.lastFields();
    double[] fields = new double[carried.length];
    for (int i = 0; i < fields.length; i++) {
      fields[i] = carried[i];
    }
    int alsoFrom = fields.length - (targets - 1);
    long last = st.lastEventTime();
    long interval = st.lastIntervalMs() > 0 ? st.lastIntervalMs() : 1;
    double[] f = new double[targets];
    f[0] = st.lastForecast();
    for (int j = 1; j < targets; j++) {
      f[j] = st.alsoForecast(j - 1);
    }
    if (!st.madeBy(modelId)) {
      // A state made by another model means nothing to this one: roll from a reset state.
      st.resetRecurrent(modelId, stateSizes);
    }
    long first = st.steps();
    int h = horizons.length;
    int n = 0;
    for (int k = 0; k < steps; k++) {
      long time = calendar.ahead(last - interval, last, k + 1);
      if (time == SeriesCalendar.UNKNOWN) {
        time = last + (k + 1) * interval;
      }
      times[k] = time;
      boolean finite = true;
      for (int j = 0; j < targets; j++) {
        forecasts[k * targets + j] = f[j];
        finite &= !Double.isNaN(f[j]);
      }
      n++;
      if (k == steps - 1 || !finite) {
        break;
      }
      for (int j = 1; j < targets; j++) {
        fields[alsoFrom + j - 1] = f[j];
      }
      Event e = Event.of(id, time, f[0], fields);
      for (int i = 0; i < lagged.length; i++) {
        // The rolled event k is event number first + k; its lag reads that many events back.
        long back = first + k - (pipeline.lag(i) - 1);
        lagged[i] = back >= first ? forecasts[(int) (back - first) * targets] : lagTarget(id, back);
      }
      pipeline.features(e, st, lagged, x, 0);
      step(1, x, st.states(), y1);
      pipeline.remember(e, st);
      for (int j = 0; j < targets; j++) {
        f[j] = pipeline.forecast(j, y1[j * h], f[j]);
      }
    }
    return n;
  }

  /**
   * Puts, at every step of a rolled forecast ({@link #roll}) that is one of the pipeline's
   * horizons, the model's own forecast for that horizon made at the series' last event (kept with
   * its row) in place of the rolled one: a forecast trained for that horizon rather than fed its
   * own forecasts, and the one that horizon's intervals are calibrated on. Marks those values, and
   * the first step's (always the model's own), in {@code direct} (same layout as {@code
   * forecasts}). Replaces nothing with one output, or when the last event's row is gone.
   */
  public void putDirectForecasts(
      String id, SeriesState live, int steps, double[] forecasts, boolean[] direct) {
    // The first step is always the model's own: the next-event forecasts of the last event.
    for (int j = 0; j < targets && steps > 0; j++) {
      direct[j] = !Double.isNaN(forecasts[j]);
    }
    if (!multi || live.steps() == 0 || readScores(id, live.steps() - 1, scores) == 0) {
      return;
    }
    for (int k = 0; k < horizons.length; k++) {
      int step = horizons[k];
      for (int j = 0; j < targets && step <= steps; j++) {
        double f = scores[targets + j * horizons.length + k];
        if (!Double.isNaN(f)) {
          forecasts[(step - 1) * targets + j] = f;
          direct[(step - 1) * targets + j] = true;
        }
      }
    }
  }

  /**
   * The state to store although the last {@link #stage} refused its event (an anomaly under {@code
   * dead_letter}: scored and learnt from), or null when the refusal left the state untouched.
   */
  public SeriesState refusedState() {
    return refusedState;
  }

  /**
   * The first target's actual in the series' event {@code step} (from 0), kept with its row; NaN
   * when the row is gone, has no scores (written before lags) or {@code step} is negative.
   */
  private double lagTarget(String id, long step) {
    return step >= 0 && readScores(id, step, lagScores) > 0 ? lagScores[0] : Double.NaN;
  }

  /**
   * Reads the scores kept with the row of {@code step} into {@code out}: returns how many ({@link
   * #rowScores}; {@code targets + outputs} for a row written before the published half-widths were
   * kept with it), or 0 when there is no such row.
   */
  private int readScores(String id, long step, double[] out) {
    if (recent.scores(id, step, out, rowScores)) {
      return rowScores;
    }
    return published > 0 && recent.scores(id, step, out, targets + outputs) ? targets + outputs : 0;
  }

  private int refuse(Rejection reason, String message) {
    refusal = reason;
    refusalMessage = message;
    return -1;
  }

  /** Replays the series' recent inputs through the new model (burn-in), or starts from zero. */
  private void rebuild(String id, SeriesState st) {
    st.resetRecurrent(modelId, stateSizes);
    intervals.swapped(st);
    if (!burnInOnSwap || recentCapacity == 0) {
      return;
    }
    int rows = recent.read(id, st, replay, width, recentCapacity);
    if (rows == 0) {
      return;
    }
    for (int r = 0; r < rows; r++) {
      System.arraycopy(replay, r * width, replayRow, 0, width);
      step(1, replayRow, st.states(), y1);
      st.burnInStep();
    }
    listener.burnIn();
  }

  private void step(int n, float[] in, float[][] st, float[] out) {
    try {
      stepper.stepBatch(n, in, st, out);
    } catch (ModelException e) {
      throw new IllegalStateException("model " + version + " failed to step: " + e.getMessage(), e);
    }
  }

  private void requireModel() {
    if (model == null) {
      throw new IllegalStateException("no model: call use(model) first");
    }
  }

  private void closeStepper() {
    if (stepper != null) {
      stepper.close();
      stepper = null;
    }
  }

  /** Closes the stepper; the model stays with its owner. */
  @Override
  public void close() {
    clear();
    closeStepper();
    model = null;
  }
}
