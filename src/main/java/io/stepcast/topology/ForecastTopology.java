package io.stepcast.topology;

import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.SeriesIdSource;
import io.stepcast.model.ModelRegistry;
import io.stepcast.state.RocksDbMemory;
import io.stepcast.state.SeriesStateSerde;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * Builds the forecasting topology of one pipeline. A pure function of the spec: tests build the
 * same topology and run it in {@code TopologyTestDriver}; {@code main} only starts it.
 *
 * <pre>
 * input (bytes) -> parse -> [repartition by series id, when the id is a JSON field]
 *   -> forecast (state store series-state) -> forecasts topic
 *   parse and forecast dead letters -> dead-letter topic (original bytes, reason in headers)
 * </pre>
 *
 * <p>Every processor, store and internal topic is named: a renamed store would silently lose state
 * on upgrade, so the description is committed beside each spec and a test fails when it drifts.
 */
public final class ForecastTopology {
  /** The state store holding each series' {@code SeriesState}; changelogged. */
  public static final String STATE_STORE = "series-state";

  /**
   * Each series' recent model inputs for burn-in, one record per series and slot ({@code
   * RecentRows}); changelogged.
   */
  public static final String RECENT_STORE = "series-recent";

  /**
   * How many series each task holds (one record per task), so a task starting up reads one number
   * instead of scanning its store; changelogged, in memory.
   */
  public static final String COUNT_STORE = "series-count";

  private ForecastTopology() {}

  /**
   * Whether the series state store has the record cache. The cache keeps the last state of each
   * series and writes it to RocksDB and the changelog once per commit: a series seen several times
   * per commit is written once. Not with batching: the batch stored before a commit must reach the
   * changelog in that commit, and this cache may be flushed before the batch is stepped ({@link
   * BeforeCommit}); and once the thread's cache is full, every put to {@link BeforeCommit}'s store
   * would evict it at once and step each event alone.
   */
  public static boolean stateStoreCached(TopologySpec spec) {
    return spec.processing().cacheMaxBytes() > 0 && spec.processing().batchSize() == 1;
  }

  /** Builds the topology. The registry must be serving a model before the first record arrives. */
  public static Topology build(TopologySpec spec, ModelRegistry registry, ForecastMetrics metrics) {
    StreamsBuilder builder = new StreamsBuilder();
    // The store must be added to the builder before a processor can name it.
    var states =
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(), new SeriesStateSerde());
    builder.addStateStore(stateStoreCached(spec) ? states.withCachingEnabled() : states);
    builder.addStateStore(BeforeCommit.storeBuilder());
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(RECENT_STORE), Serdes.Bytes(), Serdes.ByteArray()));
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.inMemoryKeyValueStore(COUNT_STORE), Serdes.String(), Serdes.Long()));

    KStream<byte[], byte[]> input =
        builder.stream(
            spec.topics().input(),
            Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("input"));
    var parsed =
        input
            .process(() -> new ParseProcessor(spec, metrics), Named.as("parse"))
            .split(Named.as("parse-route-"))
            .branch((k, v) -> v.isDeadLetter(), Branched.as("dead-letters"))
            .defaultBranch(Branched.as("events"));
    KStream<String, Envelope> events = parsed.get("parse-route-events");
    if (spec.seriesId().from() == SeriesIdSource.FIELD) {
      // The input key is not the series id: move each event to its series' partition so one task
      // owns each series' state.
      events =
          events.repartition(
              Repartitioned.with(Serdes.String(), new EnvelopeSerde()).withName("by-series"));
    }
    var stepped =
        events
            .process(
                () -> new ForecastProcessor(spec, registry, metrics),
                Named.as("forecast"),
                STATE_STORE,
                RECENT_STORE,
                COUNT_STORE,
                BeforeCommit.STORE)
            .split(Named.as("forecast-route-"))
            .branch((k, v) -> v.isDeadLetter(), Branched.as("dead-letters"))
            .defaultBranch(Branched.as("forecasts"));

    stepped
        .get("forecast-route-forecasts")
        .mapValues(v -> v.forecast, Named.as("forecast-json"))
        .to(
            spec.topics().output(),
            Produced.with(Serdes.String(), Serdes.ByteArray()).withName("forecasts"));
    // Each stage has its own dead-letter sink: merging the two streams would fuse the stages into
    // one sub-topology.
    for (String stage : new String[] {"parse", "forecast"}) {
      var branch = stage.equals("parse") ? parsed : stepped;
      branch
          .get(stage + "-route-dead-letters")
          .map(
              (k, v) -> KeyValue.pair(v.rawKey, v.rawValue),
              Named.as(stage + "-dead-letters-original"))
          .to(
              spec.topics().deadLetter(),
              Produced.with(Serdes.ByteArray(), Serdes.ByteArray())
                  .withName(stage + "-dead-letters"));
    }
    return builder.build();
  }

  /**
   * Kafka Streams configuration for a pipeline. Exactly-once v2 by default: a crash never advances
   * a series twice or loses a forecast, because the state change, the forecast and the input offset
   * commit in one transaction.
   *
   * @param extra client properties that win over everything else (security, tuning)
   */
  public static Properties streamsConfig(
      TopologySpec spec, String bootstrapServers, Path stateDir, Map<String, String> extra) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, spec.applicationId());
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, spec.processing().guarantee());
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, spec.processing().numStreamThreads());
    p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, spec.processing().standbyReplicas());
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, spec.processing().commitIntervalMs());
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, BeforeCommit.threadCacheBytes(spec));
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) spec.topics().replicationFactor());
    p.put(
        StreamsConfig.topicPrefix("min.insync.replicas"),
        Integer.toString(Math.min(2, spec.topics().replicationFactor())));
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
    // No record may stop the instance: what the topology cannot route itself, these handlers do.
    p.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        RecordErrorHandlers.Deserialization.class.getName());
    p.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
        RecordErrorHandlers.Processing.class.getName());
    p.put(
        StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
        RecordErrorHandlers.Production.class.getName());
    // There is no global store; this only silences Kafka's warning that the handler skips one.
    // (Deprecated in 4.3, whose default will become true; until then the warning returns without.)
    putGlobalHandlerEnabled(p);
    p.put(RecordErrorHandlers.PIPELINE_CONFIG, spec.name());
    p.put(RecordErrorHandlers.DEAD_LETTER_TOPIC_CONFIG, spec.topics().deadLetter());
    var mb = spec.processing();
    RocksDbMemory.configure(
        p, (long) mb.rocksdbMemoryMb() << 20, (long) mb.rocksdbWriteBufferMb() << 20);
    Rebalancing.defaults(p);
    p.putAll(extra);
    return p;
  }

  @SuppressWarnings("deprecation")
  private static void putGlobalHandlerEnabled(Properties p) {
    p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
  }
}
