package io.stepcast.topology;

import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Kafka Streams' task-movement settings chosen for stepcast's state, so that an instance added to a
 * running group takes over partitions within seconds to a minute instead of Kafka's ten.
 *
 * <p>The pitfall: Kafka Streams' high-availability assignor gives a stateful task to a new instance
 * only when that instance is "caught up", within {@code acceptable.recovery.lag} changelog offsets
 * of the end (default 10 000). Otherwise the task stays put, the new instance restores a warm-up
 * replica in the background, and the move waits for the next probing rebalance, every {@code
 * probing.rebalance.interval.ms} (default 10 minutes). stepcast writes its changelog on every
 * event, so any live pipeline is past 10 000 offsets per partition within minutes and a new
 * instance sat idle for up to ten minutes.
 *
 * <p>The arithmetic (docs/DEPLOY.md, "Scaling out"): a series' state is about 0.6-1 KB, and a
 * changelog restores at tens of thousands of records a second on one core (ScaleOutIT measures it).
 * An instance within {@link #ACCEPTABLE_RECOVERY_LAG} offsets therefore restores in seconds, so it
 * may take the task at once; further behind it warms up first and is promoted by a probing
 * rebalance at most {@link #PROBING_REBALANCE_INTERVAL_MS} later (Kafka's minimum). Warm-ups of
 * such small stores are cheap, so {@link #MAX_WARMUP_REPLICAS} of them run at once and a scale-out
 * from 1 to 8 instances needs one probing round, not four.
 */
public final class Rebalancing {
  /**
   * Changelog offsets a new owner may be behind and still take a task at once: the restore of this
   * many records pauses the task for seconds, well under the minute Kafka's documentation allows.
   */
  public static final long ACCEPTABLE_RECOVERY_LAG = 200_000;

  /** The longest a warmed-up replica waits for its promotion: Kafka's minimum, one minute. */
  public static final long PROBING_REBALANCE_INTERVAL_MS = 60_000;

  /** Warm-up replicas restored at once across the group (Kafka's default is 2). */
  public static final int MAX_WARMUP_REPLICAS = 8;

  private Rebalancing() {}

  /** Puts the defaults into {@code streamsConfig} where it has no value of its own. */
  public static void defaults(Properties streamsConfig) {
    streamsConfig.putIfAbsent(
        StreamsConfig.ACCEPTABLE_RECOVERY_LAG_CONFIG, ACCEPTABLE_RECOVERY_LAG);
    streamsConfig.putIfAbsent(
        StreamsConfig.PROBING_REBALANCE_INTERVAL_MS_CONFIG, PROBING_REBALANCE_INTERVAL_MS);
    streamsConfig.putIfAbsent(StreamsConfig.MAX_WARMUP_REPLICAS_CONFIG, MAX_WARMUP_REPLICAS);
  }
}
