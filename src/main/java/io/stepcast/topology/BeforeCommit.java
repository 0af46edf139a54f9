package io.stepcast.topology;

import io.stepcast.config.TopologySpec;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorNode;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.internals.CachedStateStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a processor's callback before its task commits, so a processor may hold records back (to
 * step many series in one ONNX Runtime call) and still forward them in the transaction that commits
 * their input offsets. The one place stepcast touches Kafka Streams internals.
 *
 * <p>Kafka Streams has no supported pre-commit hook, and punctuators run on their own schedule, not
 * before every commit. But a task's commit first flushes its record caches, and a cached store
 * calls its flush listener for each dirty entry, which is how a cached KTable forwards downstream;
 * only then does the task flush the producer and commit the offsets with the transaction ({@code
 * StreamTask.flush()}: {@code stateMgr.flushCache()}, then {@code recordCollector.flush()}; then
 * {@code committableOffsetsAndMetadata()}). Twitter's Finatra ({@code FlushingProcessor}) and
 * Responsive's async processing build on the same order. A small in-memory cached store ({@link
 * #STORE}, no changelog) holds one dirty entry while the processor holds records; its flush
 * listener runs the callback as the processor's node, as Kafka's own {@code
 * TimestampedCacheFlushListener} does. A cache eviction (the thread's cache full) runs it early,
 * which is harmless.
 *
 * <p>What the callback writes must reach the producer at once: stores it writes must not be cached
 * themselves (another store's cache may already have been flushed in this commit). {@code
 * BeforeCommitIT} fails if Kafka changes the order. When the internals are not what this class
 * expects, {@link #install} returns null and the processor forwards every record at once.
 */
final class BeforeCommit {
  /** The store whose cache flush runs the callback; in memory, not changelogged. */
  static final String STORE = "forecast-before-commit";

  private static final Logger LOG = LoggerFactory.getLogger(BeforeCommit.class);
  private static final String KEY = "pending";
  private static final Integer ARMED = 1;

  private final KeyValueStore<String, Integer> store;

  private BeforeCommit(KeyValueStore<String, Integer> store) {
    this.store = store;
  }

  /**
   * The record cache to give Kafka Streams ({@code statestore.cache.max.bytes}): {@code
   * processing.cacheMaxBytes}, but with batching at least {@value #MIN_CACHE_BYTES}. This class's
   * store must hold its one entry until the commit; with no cache every put would flush it at once
   * and step each event alone. With batching it is the topology's only cached store (the series
   * state has no record cache then), so this much is never full.
   */
  static long threadCacheBytes(TopologySpec spec) {
    long bytes = spec.processing().cacheMaxBytes();
    return spec.processing().batchSize() > 1 ? Math.max(bytes, MIN_CACHE_BYTES) : bytes;
  }

  /** The least record cache batching runs with; see {@link #threadCacheBytes}. */
  static final long MIN_CACHE_BYTES = 1 << 20;

  /** The store to add to the topology and connect to the processor. */
  static StoreBuilder<KeyValueStore<String, Integer>> storeBuilder() {
    return Stores.keyValueStoreBuilder(
            Stores.inMemoryKeyValueStore(STORE), Serdes.String(), Serdes.Integer())
        .withCachingEnabled()
        .withLoggingDisabled();
  }

  /**
   * Makes {@code callback} run before each commit of the processor's task (while {@link #arm}ed);
   * call from {@code Processor.init}. Returns null when this Kafka Streams does not allow it.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static BeforeCommit install(ProcessorContext<?, ?> context, Runnable callback) {
    try {
      Object store = context.getStateStore(STORE);
      if (!(context instanceof InternalProcessorContext<?, ?> internal)
          || !(store instanceof CachedStateStore<?, ?> cached)) {
        LOG.warn(
            "Kafka Streams offers no flush listener here ({}, {}): stepping one series per call",
            context.getClass().getName(),
            store == null ? null : store.getClass().getName());
        return null;
      }
      ProcessorNode<?, ?, ?, ?> node = internal.currentNode();
      boolean installed =
          ((CachedStateStore) cached)
              .setFlushListener(
                  record -> {
                    ProcessorNode<?, ?, ?, ?> previous = internal.currentNode();
                    internal.setCurrentNode(node);
                    try {
                      callback.run();
                    } finally {
                      internal.setCurrentNode(previous);
                    }
                  },
                  false);
      if (!installed || node == null) {
        LOG.warn("The {} store is not cached: stepping one series per call", STORE);
        return null;
      }
      return new BeforeCommit((KeyValueStore<String, Integer>) store);
    } catch (LinkageError | RuntimeException e) {
      LOG.warn("Cannot hook the commit ({}): stepping one series per call", e.toString());
      return null;
    }
  }

  /** Makes sure the callback runs before the task's next commit. */
  void arm() {
    store.put(KEY, ARMED);
  }
}
