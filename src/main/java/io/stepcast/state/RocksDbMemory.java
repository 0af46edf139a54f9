package io.stepcast.state;

import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds the native memory of every RocksDB state store in the process: one LRU block cache holds
 * the data blocks, the index and filter blocks and (through a {@link WriteBufferManager} charged to
 * it) the memtables of all stores, as in Kafka Streams' "bounded memory" recipe.
 *
 * <p>Why: by default Kafka Streams gives each store its own 50 MiB block cache and up to three 16
 * MiB memtables, with index and filter blocks outside both. Each task (input partition) and each
 * standby replica opens a store, so an instance's RocksDB memory grows with the partitions it
 * happens to hold (about 100 MiB per store, 800 MiB for four active and four standby tasks) and a
 * container with a fixed memory limit is killed by the kernel after a rebalance. With this setter
 * the total is {@link #TOTAL_BYTES_CONFIG} whatever the number of stores.
 *
 * <p>Kafka Streams creates one setter per store, so the cache and the write buffer manager are
 * shared through a static registry keyed by the budget, created on first use and never closed (they
 * live as long as the process; closing them in {@link #close} would pull them from under the other
 * stores).
 */
public final class RocksDbMemory implements RocksDBConfigSetter {
  /**
   * Streams config: total bytes of RocksDB's block cache, which also holds index and filter blocks
   * and is charged with the memtables. Shared by all stores of the process.
   */
  public static final String TOTAL_BYTES_CONFIG = "stepcast.rocksdb.memory.bytes";

  /**
   * Streams config: the part of {@link #TOTAL_BYTES_CONFIG} the memtables of all stores may use.
   */
  public static final String WRITE_BUFFER_BYTES_CONFIG = "stepcast.rocksdb.write.buffer.bytes";

  /**
   * Share of the cache reserved for index and filter blocks, so that data blocks never evict them
   * (a lookup without its index block reads the file twice).
   */
  static final double INDEX_FILTER_RATIO = 0.1;

  /** Largest memtable of one store; Kafka Streams' own default. */
  static final long MAX_MEMTABLE_BYTES = 16L << 20;

  private static final Map<Budget, Shared> SHARED = new ConcurrentHashMap<>();

  /** A memory budget: total bytes and the memtables' part of it. */
  record Budget(long totalBytes, long writeBufferBytes) {}

  /** The cache and write buffer manager of one budget, shared by every store that uses it. */
  record Shared(Cache cache, WriteBufferManager writeBufferManager) {}

  /**
   * Bounds RocksDB in {@code streamsConfig} to {@code totalBytes}, of which the memtables may use
   * {@code writeBufferBytes}; {@code totalBytes == 0} leaves RocksDB's per-store defaults. Values a
   * caller already put under {@link StreamsConfig#ROCKSDB_CONFIG_SETTER_CLASS_CONFIG} win.
   */
  public static void configure(Properties streamsConfig, long totalBytes, long writeBufferBytes) {
    if (totalBytes <= 0) {
      return;
    }
    if (writeBufferBytes <= 0 || writeBufferBytes >= totalBytes) {
      throw new IllegalArgumentException(
          "RocksDB write buffers ("
              + writeBufferBytes
              + " bytes) must be more than 0 and less than the total ("
              + totalBytes
              + " bytes)");
    }
    streamsConfig.putIfAbsent(
        StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, RocksDbMemory.class.getName());
    streamsConfig.put(TOTAL_BYTES_CONFIG, Long.toString(totalBytes));
    streamsConfig.put(WRITE_BUFFER_BYTES_CONFIG, Long.toString(writeBufferBytes));
  }

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    Budget budget =
        new Budget(bytes(configs, TOTAL_BYTES_CONFIG), bytes(configs, WRITE_BUFFER_BYTES_CONFIG));
    Shared shared = shared(budget);
    // Kafka Streams' table config: modify it rather than replacing it, to keep its other defaults.
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    table.setBlockCache(shared.cache());
    // These three bound the memory to the cache's capacity: index and filter blocks in the cache,
    // memtables charged to it.
    table.setCacheIndexAndFilterBlocks(true);
    options.setWriteBufferManager(shared.writeBufferManager());
    table.setCacheIndexAndFilterBlocksWithHighPriority(true);
    table.setPinTopLevelIndexAndFilter(true);
    // Two memtables per store (one filling, one flushing), each at most half the shared write
    // budget.
    options.setMaxWriteBufferNumber(2);
    options.setWriteBufferSize(Math.min(MAX_MEMTABLE_BYTES, budget.writeBufferBytes() / 2));
    options.setTableFormatConfig(table);
  }

  @Override
  public void close(String storeName, Options options) {
    // The cache and the write buffer manager are shared by every store: they stay open.
  }

  /** The cache and write buffer manager of {@code budget}, created on first use. */
  static Shared shared(Budget budget) {
    return SHARED.computeIfAbsent(
        budget,
        b -> {
          // strictCapacityLimit false: with memtables charged to the cache a strict limit can fail
          // reads (RocksDB issue 6247); the write buffer manager keeps the memtables in bounds.
          Cache cache = new LRUCache(b.totalBytes(), -1, false, INDEX_FILTER_RATIO);
          return new Shared(cache, new WriteBufferManager(b.writeBufferBytes(), cache));
        });
  }

  private static long bytes(Map<String, Object> configs, String key) {
    Object v = configs.get(key);
    if (v instanceof Number n) {
      return n.longValue();
    }
    if (v instanceof String s) {
      return Long.parseLong(s.trim());
    }
    throw new IllegalStateException(
        key + " is not set: configure RocksDbMemory with RocksDbMemory.configure(...)");
  }
}
