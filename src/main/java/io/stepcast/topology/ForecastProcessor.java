package io.stepcast.topology;

import io.stepcast.config.TopologySpec;
import io.stepcast.engine.StepEngine;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.model.ModelRegistry;
import io.stepcast.state.SeriesState;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Second stage, per series: Kafka glue around the {@link StepEngine}. It loads the series' state
 * from the store, hands the event to the engine (checks, burn-in, scoring, features), and once the
 * engine has stepped it stores the new state and forwards the forecast; an event the engine refuses
 * is forwarded as a dead letter at once.
 *
 * <p>With {@code processing.batchSize} above 1 it stages events of different series and steps them
 * in one ONNX Runtime call when the batch is full, when a staged series comes again, when the model
 * changes, and before every commit of the task ({@link BeforeCommit}): no input offset is committed
 * before its forecast is forwarded and its state written, so exactly-once holds. Without the commit
 * hook it steps every event at once.
 *
 * <p>With batching, Kafka's record cache cannot sit in front of the state store ({@link
 * ForecastTopology#stateStoreCached}); the processor keeps the same write-back itself: the states
 * it steps stay in a task-local map, a series seen again reads its state from there, and the map is
 * written to the store (and its changelog) in the same pre-commit callback, after the last batch. A
 * series seen several times per commit is written once, in the transaction that commits its inputs.
 * The map holds at most {@link #writeBackLimit} states; beyond, it is written at once. {@code
 * processing.cacheMaxBytes} 0 turns it off. Interactive queries (the state API) see the store as of
 * the last commit.
 *
 * <p>Each task owns its engine (reused buffers and tensors) and holds the model it steps with; it
 * moves to a newer model at the next record after a swap.
 */
final class ForecastProcessor implements Processor<String, Envelope, String, Envelope> {
  /** The one key of the task's {@link ForecastTopology#COUNT_STORE}. */
  static final String COUNT_KEY = "series";

  private final TopologySpec spec;
  private final ModelRegistry registry;
  private final ForecastMetrics metrics;
  private final Envelope out = new Envelope();
  private final ForecastWriter writer;
  private ProcessorContext<String, Envelope> context;
  private KeyValueStore<String, SeriesState> store;
  private KeyValueStore<String, Long> counts;
  private boolean countUnsaved;
  private StepEngine engine;
  private BeforeCommit beforeCommit;
  private Record<String, Envelope>[] staged;
  private ModelRegistry.Handle handle;
  private String task;
  private long held;

  /** States stepped since the last commit, not yet in the store (write-back with batching). */
  private final Map<String, SeriesState> unwritten = new HashMap<>();

  private int writeBackLimit;

  ForecastProcessor(TopologySpec spec, ModelRegistry registry, ForecastMetrics metrics) {
    this.spec = spec;
    this.registry = registry;
    this.metrics = metrics;
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    this.writer =
        new ForecastWriter(pipeline.targetNames(), pipeline.horizons(), spec.intervals().levels());
  }

  @Override
  @SuppressWarnings("unchecked")
  public void init(ProcessorContext<String, Envelope> context) {
    this.context = context;
    this.store = context.getStateStore(ForecastTopology.STATE_STORE);
    KeyValueStore<Bytes, byte[]> recent = context.getStateStore(ForecastTopology.RECENT_STORE);
    this.counts = context.getStateStore(ForecastTopology.COUNT_STORE);
    int batch = spec.processing().batchSize();
    if (batch > 1) {
      beforeCommit = BeforeCommit.install(context, this::beforeCommit);
      if (beforeCommit == null) {
        batch = 1;
      }
    }
    this.writeBackLimit = beforeCommit == null ? 0 : writeBackLimit(spec);
    this.engine =
        new StepEngine(
            spec, batch, new StoreRecentInputs(recent, StoreRecentInputs.capacity(spec)), metrics);
    @SuppressWarnings("unchecked") // a generic array: every slot holds a Record<String, Envelope>
    Record<String, Envelope>[] slots = (Record<String, Envelope>[]) new Record<?, ?>[batch];
    this.staged = slots;
    // Processors are initialised once the task's stores are restored, so the count is exact.
    this.task = context.taskId().toString();
    Long n = counts.get(COUNT_KEY);
    if (n == null) {
      // A store written before the count was kept: count once, store it with the next event.
      // (RocksDB's approximateNumEntries counts every overwrite still in the memtable: many times
      // the number of series.)
      n = 0L;
      try (KeyValueIterator<String, SeriesState> all = store.all()) {
        while (all.hasNext()) {
          all.next();
          n++;
        }
      }
      countUnsaved = true;
    }
    this.held = n;
    metrics.seriesHeld(task, held);
  }

  @Override
  public void process(Record<String, Envelope> record) {
    Envelope in = record.value();
    String id = record.key();
    followRegistry();
    if (engine.isFull() || engine.isStaged(id)) {
      // The next event of a staged series depends on its step.
      stepStaged();
    }
    SeriesState prior = unwritten.get(id);
    int slot = engine.stage(id, in.event, prior != null ? prior : store.get(id));
    if (slot < 0) {
      SeriesState learnt = engine.refusedState();
      if (learnt != null) {
        // A dead-lettered anomaly was scored: its calibration must not forget the miss. Held
        // back, it must be written before this commit like any stepped state.
        save(id, learnt);
        if (beforeCommit != null) {
          beforeCommit.arm();
        }
      }
      deadLetter(record, in);
      return;
    }
    staged[slot] = record;
    if (beforeCommit == null) {
      stepStaged();
    } else {
      beforeCommit.arm();
    }
  }

  /** Steps the staged series, stores their states and forwards their forecasts. */
  private void stepStaged() {
    int n = engine.staged();
    if (n == 0) {
      return;
    }
    engine.run();
    boolean added = countUnsaved;
    for (int slot = 0; slot < n; slot++) {
      SeriesState st = engine.state(slot);
      String id = engine.id(slot);
      save(id, st);
      if (engine.isNew(slot)) {
        held++;
        added = true;
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
              engine.warm(slot),
              engine.halfWidths(),
              slot * engine.intervals().size(),
              engine.intervalsWarm(slot),
              engine.anomaly(slot),
              engine.held(slot),
              engine,
              slot);
      metrics.forecast();
      Record<String, Envelope> r = staged[slot];
      staged[slot] = null;
      context.forward(r.withValue(e));
    }
    engine.clear();
    if (unwritten.size() >= writeBackLimit) {
      writeBack();
    }
    if (added) {
      counts.put(COUNT_KEY, held);
      countUnsaved = false;
      metrics.seriesHeld(task, held);
    }
  }

  /** Stores a series' new state, or holds it back for the write-back before the commit. */
  private void save(String id, SeriesState st) {
    if (writeBackLimit > 0) {
      unwritten.put(id, st);
    } else {
      store.put(id, st);
    }
  }

  /** Runs just before each commit of the task: the last batch, then the states held back. */
  private void beforeCommit() {
    stepStaged();
    writeBack();
  }

  private void writeBack() {
    if (unwritten.isEmpty()) {
      return;
    }
    for (Map.Entry<String, SeriesState> e : unwritten.entrySet()) {
      store.put(e.getKey(), e.getValue());
    }
    unwritten.clear();
  }

  /**
   * How many stepped states a task may hold back: about {@code processing.cacheMaxBytes} spent on
   * them at roughly a kilobyte each (the state, its key and the map's entry); 0 when the cache is
   * off.
   */
  static int writeBackLimit(TopologySpec spec) {
    return (int) Math.min(1 << 20, spec.processing().cacheMaxBytes() / 1024);
  }

  private void followRegistry() {
    if (handle != null && registry.current() == handle) {
      return;
    }
    ModelRegistry.Handle next = registry.acquire();
    if (next == null) {
      throw new IllegalStateException("no model is serving pipeline " + spec.name());
    }
    // Staged series are stepped by the model they were staged for.
    stepStaged();
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
    // Anything still staged was never committed: its input is processed again.
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
