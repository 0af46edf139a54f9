package io.stepcast.topology;

import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.MissingPolicy;
import io.stepcast.config.TopologySpec.OnSwap;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.Rejection;
import io.stepcast.model.ModelException;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.StepModel;
import io.stepcast.model.Stepper;
import io.stepcast.state.SeriesState;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Second stage, per series: loads the series' state, rejects late and duplicate events, rebuilds
 * the state for a new model (burn-in or reset), computes the features, advances the network one
 * step, scores the previous forecast, stores the new state and emits the forecast.
 *
 * <p>Each task owns its {@link Stepper} (reused buffers and tensors) and holds the model it steps
 * with; it moves to a newer model at the next record after a swap.
 */
final class ForecastProcessor implements Processor<String, Envelope, String, Envelope> {
  private final TopologySpec spec;
  private final ModelRegistry registry;
  private final ForecastMetrics metrics;
  private final FeaturePipeline pipeline;
  private final boolean carryForward;
  private final boolean burnInOnSwap;
  private final int ringCapacity;
  private final int fieldCount;
  private final float[] x;
  private final float[] y = new float[1];
  private final float[] replay;
  private final Envelope out = new Envelope();
  private final ForecastWriter writer;
  private ProcessorContext<String, Envelope> context;
  private KeyValueStore<String, SeriesState> store;
  private ModelRegistry.Handle handle;
  private Stepper stepper;
  private int[] stateSizes;
  private int burnIn;
  private String task;
  private long held;

  ForecastProcessor(TopologySpec spec, ModelRegistry registry, ForecastMetrics metrics) {
    this.spec = spec;
    this.registry = registry;
    this.metrics = metrics;
    this.pipeline = new FeaturePipeline(spec);
    this.carryForward = spec.policies().missing() == MissingPolicy.CARRY_FORWARD;
    this.burnInOnSwap = spec.model().onSwap() == OnSwap.BURN_IN;
    this.ringCapacity = spec.model().ringBuffer();
    this.fieldCount = FeaturePipeline.inputFields(spec).size();
    this.x = new float[pipeline.width()];
    this.replay = new float[pipeline.width()];
    this.writer = new ForecastWriter(spec.target().field());
  }

  @Override
  public void init(ProcessorContext<String, Envelope> context) {
    this.context = context;
    this.store = context.getStateStore(ForecastTopology.STATE_STORE);
    // Processors are initialised once the task's store is restored, so this count is exact; from
    // here on the task counts the series it adds. (RocksDB's approximateNumEntries counts every
    // overwrite still in the memtable: many times the number of series.)
    this.task = context.taskId().toString();
    long n = 0;
    try (KeyValueIterator<String, SeriesState> all = store.all()) {
      while (all.hasNext()) {
        all.next();
        n++;
      }
    }
    this.held = n;
    metrics.seriesHeld(task, held);
  }

  @Override
  public void process(Record<String, Envelope> record) {
    Envelope in = record.value();
    Event ev = in.event;
    String id = record.key();
    SeriesState st = store.get(id);
    if (st != null && st.hasPrevious()) {
      if (ev.timeMillis() < st.lastEventTime()) {
        deadLetter(
            record,
            in,
            Rejection.LATE,
            "event time "
                + Instant.ofEpochMilli(ev.timeMillis())
                + " is before the series' last event at "
                + Instant.ofEpochMilli(st.lastEventTime()));
        return;
      }
      if (ev.timeMillis() == st.lastEventTime()) {
        deadLetter(
            record,
            in,
            Rejection.DUPLICATE,
            "the series already has an event at " + Instant.ofEpochMilli(ev.timeMillis()));
        return;
      }
    }
    followRegistry();
    boolean added = st == null;
    if (added) {
      st = SeriesState.fresh(handle.version(), stateSizes, fieldCount, ringCapacity, x.length);
    }
    if (carryForward) {
      int missing = pipeline.carryForward(ev, st);
      if (missing >= 0) {
        deadLetter(
            record,
            in,
            Rejection.MISSING_FIELD,
            "field '"
                + FeaturePipeline.inputFields(spec).get(missing)
                + "' is missing and the series has no earlier value to carry forward");
        return;
      }
    }
    if (!handle.version().equals(st.modelVersion())) {
      rebuild(st);
    }
    double previousForecast = st.lastForecast();
    double previousActual = st.hasPrevious() ? st.lastTarget() : Double.NaN;
    if (!Double.isNaN(previousForecast)) {
      st.score(ev.target());
      metrics.scored(
          Math.abs(ev.target() - previousForecast), Math.abs(ev.target() - previousActual));
    }
    pipeline.features(ev, st, x);
    long t0 = System.nanoTime();
    step(x, st);
    metrics.step(System.nanoTime() - t0, 1);
    double forecast = pipeline.forecast(y[0], ev.target());
    pipeline.remember(ev, st);
    st.push(x);
    st.advance(handle.version(), forecast);
    store.put(id, st);
    if (added) {
      metrics.seriesHeld(task, ++held);
    }
    Envelope e = out.clear();
    e.forecast =
        writer.write(
            id,
            ev.timeMillis(),
            ev.target(),
            forecast,
            previousForecast,
            previousActual,
            handle.version(),
            st.steps(),
            st.modelSteps() >= burnIn);
    metrics.forecast();
    context.forward(record.withValue(e));
  }

  /** Replays the ring buffer through the new model (burn-in), or starts from zero (reset). */
  private void rebuild(SeriesState st) {
    st.resetRecurrent(handle.version(), stateSizes);
    if (!burnInOnSwap || st.ringSize() == 0 || st.ringWidth() != x.length) {
      return;
    }
    for (int i = 0; i < st.ringSize(); i++) {
      st.ringRow(i, replay);
      step(replay, st);
      st.burnInStep();
    }
    metrics.burnIn();
  }

  private void step(float[] input, SeriesState st) {
    try {
      stepper.step(input, st.states(), y);
    } catch (ModelException e) {
      // A validated model failing on a validated input is a bug or a broken runtime: fail loudly.
      throw new IllegalStateException(
          "model " + handle.version() + " failed to step: " + e.getMessage(), e);
    }
  }

  private void followRegistry() {
    if (handle != null && registry.current() == handle) {
      return;
    }
    ModelRegistry.Handle next = registry.acquire();
    if (next == null) {
      throw new IllegalStateException("no model is serving pipeline " + spec.name());
    }
    release();
    handle = next;
    StepModel m = next.model();
    stepper = m.newStepper(1);
    stateSizes = new int[m.stateCount()];
    for (int i = 0; i < stateSizes.length; i++) {
      stateSizes[i] = m.stateSize(i);
    }
    burnIn = m.spec().burnIn();
  }

  private void deadLetter(
      Record<String, Envelope> record, Envelope in, Rejection reason, String message) {
    in.reason = reason;
    in.message = message;
    in.stage = "forecast";
    metrics.deadLetter(reason);
    DeadLetters.write(record.headers(), spec.name(), in);
    context.forward(record.withValue(in));
  }

  private void release() {
    if (stepper != null) {
      stepper.close();
      stepper = null;
    }
    if (handle != null) {
      handle.release();
      handle = null;
    }
  }

  @Override
  public void close() {
    release();
    if (task != null) {
      metrics.seriesReleased(task);
    }
  }
}
