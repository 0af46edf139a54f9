package io.stepcast.kafka;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idempotent topic creation and readiness checks with an {@link Admin} client.
 *
 * <p>stepcast creates its input, output, dead-letter and model topics itself at start-up so that a
 * fresh cluster (the embedded broker above all) needs no manual step. Creating a topic that already
 * exists is not an error: the existing topic is kept as it is, whatever its partition count or
 * configs, because changing those under a running Streams application would reshuffle keys.
 */
public final class Topics {

  /** How long {@link #ensure} waits for the broker by default. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private static final Logger log = LoggerFactory.getLogger(Topics.class);
  private static final long POLL_INTERVAL_MS = 50;

  private Topics() {}

  /**
   * Creates {@code name} with {@code partitions} partitions, the broker's default replication
   * factor and the given topic configs, unless it exists. Returns whether this call created it.
   *
   * @throws KafkaException when the broker refuses the topic (for example an invalid config) or
   *     does not answer within {@link #DEFAULT_TIMEOUT}
   */
  public static boolean ensure(
      Admin admin, String name, int partitions, Map<String, String> configs) {
    return ensure(admin, name, partitions, configs, DEFAULT_TIMEOUT);
  }

  /**
   * Creates {@code name} with an explicit replication factor (3 on a production cluster) unless it
   * exists. Returns whether this call created it.
   */
  public static boolean ensure(
      Admin admin, String name, int partitions, short replication, Map<String, String> configs) {
    Objects.requireNonNull(admin, "admin");
    NewTopic topic =
        new NewTopic(name, Optional.of(partitions), Optional.of(replication))
            .configs(configs == null ? Map.of() : configs);
    try {
      admin
          .createTopics(List.of(topic))
          .all()
          .get(DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      log.info(
          "Created topic {} with {} partition(s), replication {}", name, partitions, replication);
      return true;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException) {
        return false;
      }
      throw new org.apache.kafka.common.KafkaException(
          "cannot create topic " + name + ": " + e.getCause(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new org.apache.kafka.common.KafkaException("creating topic " + name + " timed out", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new org.apache.kafka.common.KafkaException("interrupted creating topic " + name, e);
    }
  }

  /** As {@link #ensure(Admin, String, int, Map)} with an explicit timeout. */
  public static boolean ensure(
      Admin admin, String name, int partitions, Map<String, String> configs, Duration timeout) {
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(name, "name");
    if (partitions < 1) {
      throw new IllegalArgumentException(
          "topic '" + name + "': partitions must be at least 1, got " + partitions);
    }
    NewTopic topic =
        new NewTopic(name, Optional.of(partitions), Optional.empty())
            .configs(configs == null ? Map.of() : configs);
    try {
      admin.createTopics(List.of(topic)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      log.info("Created topic {} with {} partition(s)", name, partitions);
      return true;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TopicExistsException) {
        log.debug("Topic {} already exists", name);
        return false;
      }
      throw new KafkaException("Cannot create topic '" + name + "': " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new KafkaException(
          "Creating topic '" + name + "' timed out after " + timeout.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("Interrupted while creating topic '" + name + "'", e);
    }
  }

  /**
   * Waits until every topic is known to the cluster and each of its partitions has a leader, which
   * is when producers and consumers can use it without retrying.
   *
   * @throws KafkaException when a topic is still missing or leaderless after {@code timeout}
   */
  public static void waitForTopics(Admin admin, Collection<String> names, Duration timeout) {
    Objects.requireNonNull(admin, "admin");
    long deadline = System.nanoTime() + timeout.toNanos();
    Set<String> pending = new HashSet<>(names);
    KafkaException last = null;
    while (!pending.isEmpty()) {
      try {
        Map<String, TopicDescription> described =
            admin
                .describeTopics(pending)
                .allTopicNames()
                .get(Math.max(1, remainingMillis(deadline)), TimeUnit.MILLISECONDS);
        described.values().stream()
            .filter(Topics::allPartitionsLed)
            .map(TopicDescription::name)
            .forEach(pending::remove);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw new KafkaException("Cannot describe topics " + pending + ": " + e.getCause(), e);
        }
        last = new KafkaException(e.getCause().getMessage(), e.getCause());
      } catch (TimeoutException e) {
        last = new KafkaException("describeTopics timed out", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KafkaException("Interrupted while waiting for topics " + pending, e);
      }
      if (pending.isEmpty()) {
        return;
      }
      if (remainingMillis(deadline) <= 0) {
        throw new KafkaException(
            "Topics " + pending + " not ready after " + timeout.toMillis() + " ms", last);
      }
      sleep(Math.min(POLL_INTERVAL_MS, remainingMillis(deadline)));
    }
  }

  private static boolean allPartitionsLed(TopicDescription description) {
    List<TopicPartitionInfo> partitions = description.partitions();
    return !partitions.isEmpty()
        && partitions.stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
  }

  private static long remainingMillis(long deadlineNanos) {
    return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("Interrupted while waiting for topics", e);
    }
  }
}
