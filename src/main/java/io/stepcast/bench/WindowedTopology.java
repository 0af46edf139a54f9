package io.stepcast.bench;

import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.MissingPolicy;
import io.stepcast.features.Event;
import io.stepcast.features.EventParser;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.ParseResult;
import io.stepcast.model.ModelException;
import io.stepcast.topology.ForecastWriter;
import java.util.Arrays;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The windowed design stepcast's peers use, as a real Kafka Streams topology, for the benchmark:
 * per series it keeps the last {@code W} feature rows in a RocksDB store (changelogged, under the
 * same processing guarantee) and for every event re-runs the network over the window from a zero
 * state with one sequence-graph call ({@link SequenceRunner}).
 *
 * <p>Everything else is stepcast's own code, so the comparison isolates the design: the same {@link
 * EventParser}, the same {@link FeaturePipeline} (features, carry-forward, forecast in the target's
 * units), the same late/duplicate check and the same {@link ForecastWriter} output. It has no
 * dead-letter topic (the benchmark's events are all valid; rejections are dropped) and no
 * repartition (the benchmark keys every event by its series id).
 *
 * <pre>
 * input (bytes) -> parse -> window-forecast (store window-state) -> output
 * </pre>
 */
public final class WindowedTopology {
  /** The window store's name. */
  public static final String STORE = "window-state";

  private WindowedTopology() {}

  /**
   * Builds the topology over {@code spec}'s input and output topics.
   *
   * @param sequenceModel a graph from {@link io.stepcast.model.SequenceModelBuilder}
   * @param version the model version written in each forecast
   * @param window W, the rows kept and re-run per series
   */
  public static Topology build(
      TopologySpec spec, byte[] sequenceModel, String version, int window) {
    if (window < 1) {
      throw new IllegalArgumentException("window must be >= 1, got " + window);
    }
    StreamsBuilder b = new StreamsBuilder();
    var store =
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.ByteArray());
    // The record cache as stepcast's own store may have it (processing.cacheMaxBytes), so the two
    // designs are compared with the same cache setting.
    b.addStateStore(spec.processing().cacheMaxBytes() > 0 ? store.withCachingEnabled() : store);
    b.stream(
            spec.topics().input(),
            Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("input"))
        .process(() -> new Parse(spec), Named.as("parse"))
        .process(
            () -> new WindowForecast(spec, sequenceModel, version, window),
            Named.as("window-forecast"),
            STORE)
        .to(
            spec.topics().output(),
            Produced.with(Serdes.String(), Serdes.ByteArray()).withName("forecasts"));
    return b.build();
  }

  /** Parses each record with stepcast's parser; the event goes on keyed by its series id. */
  private static final class Parse implements Processor<byte[], byte[], String, Event> {
    private final TopologySpec spec;
    private EventParser parser;
    private ProcessorContext<String, Event> context;

    Parse(TopologySpec spec) {
      this.spec = spec;
    }

    @Override
    public void init(ProcessorContext<String, Event> context) {
      this.context = context;
      this.parser = new EventParser(spec);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
      ParseResult r = parser.parse(record.key(), record.value());
      if (r.kind() == ParseResult.Kind.EVENT) {
        context.forward(record.withKey(r.event().seriesId()).withValue(r.event()));
      }
    }
  }

  /** Updates the series' window and runs the sequence graph over it. */
  private static final class WindowForecast implements Processor<String, Event, String, byte[]> {
    private final TopologySpec spec;
    private final byte[] sequenceModel;
    private final String version;
    private final int window;
    private final FeaturePipeline pipeline;
    private final boolean carryForward;
    private final float[] x;
    // The window keeps feature rows, not raw targets: lag columns fall back to persistence here
    // (this design is measured for its cost, and stepcast's lag reads are not part of it).
    private final double[] lagged;
    private final WindowState state;
    private final ForecastWriter writer;
    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, byte[]> store;
    private SequenceRunner runner;

    WindowForecast(TopologySpec spec, byte[] sequenceModel, String version, int window) {
      this.spec = spec;
      this.sequenceModel = sequenceModel;
      this.version = version;
      this.window = window;
      this.pipeline = new FeaturePipeline(spec);
      this.carryForward = spec.policies().missing() == MissingPolicy.CARRY_FORWARD;
      this.x = new float[pipeline.width()];
      this.lagged = new double[pipeline.lagCount()];
      Arrays.fill(lagged, Double.NaN);
      this.state = new WindowState(window, x.length, FeaturePipeline.inputFields(spec).size());
      this.writer = new ForecastWriter(spec.target().field());
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
      this.context = context;
      this.store = context.getStateStore(STORE);
      try {
        this.runner = new SequenceRunner(sequenceModel, x.length, window);
      } catch (ModelException e) {
        throw new IllegalStateException("cannot open the sequence graph: " + e.getMessage(), e);
      }
    }

    @Override
    public void process(Record<String, Event> record) {
      Event ev = record.value();
      String id = record.key();
      byte[] old = store.get(id);
      if (old == null) {
        state.clear();
      } else {
        state.read(old);
      }
      if (state.hasPrevious() && ev.timeMillis() <= state.previousTime()) {
        return; // late or duplicate, as stepcast rejects it
      }
      if (carryForward && pipeline.carryForward(ev, state) >= 0) {
        return;
      }
      double previousForecast = state.lastForecast();
      double previousActual = state.hasPrevious() ? state.previousTarget() : Double.NaN;
      pipeline.features(ev, state, lagged, x, 0);
      state.push(x);
      float y;
      try {
        y = runner.run(state.rows(), state.count());
      } catch (ModelException e) {
        throw new IllegalStateException("the sequence graph failed: " + e.getMessage(), e);
      }
      double forecast = pipeline.forecast(y, ev.target());
      pipeline.remember(ev, state);
      state.advance(forecast);
      store.put(id, state.write());
      context.forward(
          record.withValue(
              writer.write(
                  id,
                  ev.timeMillis(),
                  ev.target(),
                  forecast,
                  previousForecast,
                  previousActual,
                  version,
                  state.steps(),
                  state.full())));
    }

    @Override
    public void close() {
      if (runner != null) {
        runner.close();
      }
    }
  }
}
