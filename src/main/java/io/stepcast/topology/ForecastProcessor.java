package io.stepcast.topology;

import io.stepcast.config.TopologySpec;
import io.stepcast.engine.RecentInputs;
import io.stepcast.engine.StepEngine;
import io.stepcast.model.ModelRegistry;
import io.stepcast.state.SeriesState;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Second stage, per series: Kafka glue around the {@link StepEngine}. It loads the series' state
 * from the store, hands the event to the engine (checks, burn-in, scoring, features, step), stores
 * the new state and forwards the forecast, or forwards a dead letter when the engine refuses the
 * event.
 *
 * <p>Each task owns its engine (reused buffers and tensors) and holds the model it steps with; it
 * moves to a newer model at the next record after a swap.
 */
final class ForecastProcessor implements Processor<String, Envelope, String, Envelope> {
  private final TopologySpec spec;
  private final ModelRegistry registry;
  private final ForecastMetrics metrics;
  private final Envelope out = new Envelope();
  private final ForecastWriter writer;
  private ProcessorContext<String, Envelope> context;
  private KeyValueStore<String, SeriesState> store;
  private StepEngine engine;
  private ModelRegistry.Handle handle;
  private String task;
  private long held;

  ForecastProcessor(TopologySpec spec, ModelRegistry registry, ForecastMetrics metrics) {
    this.spec = spec;
    this.registry = registry;
    this.metrics = metrics;
    this.writer = new ForecastWriter(spec.target().field());
  }

  @Override
  public void init(ProcessorContext<String, Envelope> context) {
    this.context = context;
    this.store = context.getStateStore(ForecastTopology.STATE_STORE);
    this.engine = new StepEngine(spec, 1, RecentInputs.IN_STATE, metrics);
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
    String id = record.key();
    followRegistry();
    int slot = engine.stepOne(id, in.event, store.get(id));
    if (slot < 0) {
      deadLetter(record, in);
      return;
    }
    SeriesState st = engine.state(slot);
    store.put(id, st);
    if (engine.isNew(slot)) {
      metrics.seriesHeld(task, ++held);
    }
    Envelope e = out.clear();
    e.forecast =
        writer.write(
            id,
            engine.eventTime(slot),
            engine.actual(slot),
            engine.forecast(slot),
            engine.previousForecast(slot),
            engine.previousActual(slot),
            handle.version(),
            st.steps(),
            engine.warm(slot));
    engine.clear();
    metrics.forecast();
    context.forward(record.withValue(e));
  }

  private void followRegistry() {
    if (handle != null && registry.current() == handle) {
      return;
    }
    ModelRegistry.Handle next = registry.acquire();
    if (next == null) {
      throw new IllegalStateException("no model is serving pipeline " + spec.name());
    }
    engine.use(next.model());
    if (handle != null) {
      handle.release();
    }
    handle = next;
  }

  private void deadLetter(Record<String, Envelope> record, Envelope in) {
    in.reason = engine.refusal();
    in.message = engine.refusalMessage();
    in.stage = "forecast";
    metrics.deadLetter(in.reason);
    DeadLetters.write(record.headers(), spec.name(), in);
    context.forward(record.withValue(in));
  }

  @Override
  public void close() {
    if (engine != null) {
      engine.close();
    }
    if (handle != null) {
      handle.release();
      handle = null;
    }
    if (task != null) {
      metrics.seriesReleased(task);
    }
  }
}
