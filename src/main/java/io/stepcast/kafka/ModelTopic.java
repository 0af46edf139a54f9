package io.stepcast.kafka;

import io.stepcast.config.ConfigException;
import io.stepcast.model.ModelCandidate;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.SourceHealth;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model topic: compacted, one record per model version (key = {@code PIPELINE/VERSION}, value =
 * the ONNX step model's bytes), read from the beginning by every instance. Keyed by version so that
 * compaction keeps every version (a broken newest record never erases the valid older one), and
 * sized for multi-megabyte models. Records keyed by the bare pipeline name (older publishers) are
 * read too.
 *
 * <p>stepcast owns its configuration: whoever touches the topic first creates it ({@link #ensure}),
 * and an existing topic whose configuration would lose models is refused with the command that
 * fixes it: a broker that auto-creates topics would otherwise give it {@code
 * cleanup.policy=delete}, 7 days of retention and 1 MB messages.
 */
public final class ModelTopic {
  private static final Logger LOG = LoggerFactory.getLogger(ModelTopic.class);

  /** Largest model accepted on the topic (topic max.message.bytes). */
  public static final int MAX_MODEL_BYTES = ModelCandidate.MAX_MODEL_BYTES;

  /** Producer max.request.size and consumer fetch sizes: a model plus its record's framing. */
  static final int MAX_REQUEST_BYTES = MAX_MODEL_BYTES + 1024 * 1024;

  /** Header carrying the model version, for tools that do not parse ONNX. */
  public static final String VERSION_HEADER = "stepcast.model.version";

  private ModelTopic() {}

  /**
   * Topic configuration of the model topic: compacted (one record per version, kept forever), no
   * time or size retention, records up to {@link #MAX_MODEL_BYTES}.
   */
  public static Map<String, String> topicConfig() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
    c.put(TopicConfig.RETENTION_MS_CONFIG, "-1");
    c.put(TopicConfig.RETENTION_BYTES_CONFIG, "-1");
    c.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_MODEL_BYTES));
    return c;
  }

  /** The record key of a model version of a pipeline. */
  public static String key(String pipeline, String version) {
    return pipeline + "/" + version;
  }

  /** Whether a record key names a model of {@code pipeline}. */
  static boolean forPipeline(String key, String pipeline) {
    return key != null
        && key.startsWith(pipeline)
        && (key.length() == pipeline.length() || key.charAt(pipeline.length()) == '/');
  }

  /**
   * Creates the model topic if it does not exist, then checks its configuration.
   *
   * @param bootstrap the bootstrap servers, for the fix in the error
   * @throws ConfigException when an existing topic's configuration would lose models or refuse
   *     them; the message holds the {@code kafka-configs.sh} command that fixes it
   */
  public static void ensure(Admin admin, String bootstrap, String topic, short replication) {
    Topics.ensure(admin, topic, 1, replication, topicConfig());
    Config config = readConfig(admin, topic);
    Map<String, String> values = new LinkedHashMap<>();
    for (ConfigEntry e : config.entries()) {
      values.put(e.name(), e.value());
    }
    check(bootstrap, topic, values);
  }

  /**
   * Reads the topic's configuration. Right after a create, a broker whose metadata has not caught
   * up yet answers UnknownTopicOrPartitionException for a topic that exists: that is retried until
   * {@link Topics#DEFAULT_TIMEOUT}, anything else fails at once.
   */
  private static Config readConfig(Admin admin, String topic) {
    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    long deadline = System.nanoTime() + Topics.DEFAULT_TIMEOUT.toNanos();
    long backoffMs = 50;
    while (true) {
      try {
        return admin
            .describeConfigs(List.of(r))
            .all()
            .get(Topics.DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .get(r);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
            || System.nanoTime() - deadline > 0) {
          throw new KafkaException(
              "cannot read the configuration of model topic " + topic + ": " + e.getCause(),
              e.getCause());
        }
      } catch (TimeoutException e) {
        throw new KafkaException(
            "reading the configuration of model topic " + topic + " timed out");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KafkaException(
            "interrupted reading the configuration of model topic " + topic, e);
      }
      try {
        Thread.sleep(backoffMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KafkaException(
            "interrupted reading the configuration of model topic " + topic, e);
      }
      backoffMs = Math.min(backoffMs * 2, 1000);
    }
  }

  /**
   * Refuses a model topic configuration that would lose models (time or size retention under a
   * delete policy) or refuse them (records smaller than {@link #MAX_MODEL_BYTES}).
   */
  static void check(String bootstrap, String topic, Map<String, String> config) {
    List<String> problems = new ArrayList<>();
    Map<String, String> fix = new LinkedHashMap<>();
    String policy = config.getOrDefault(TopicConfig.CLEANUP_POLICY_CONFIG, "delete");
    List<String> policies = List.of(policy.replace("[", "").replace("]", "").split("\\s*,\\s*"));
    if (policies.contains(TopicConfig.CLEANUP_POLICY_DELETE)) {
      long ms = parse(config.get(TopicConfig.RETENTION_MS_CONFIG));
      long bytes = parse(config.get(TopicConfig.RETENTION_BYTES_CONFIG));
      if (ms >= 0) {
        problems.add(
            "cleanup.policy="
                + policy
                + " with retention.ms="
                + ms
                + " deletes every model "
                + Duration.ofMillis(ms)
                + " after it was published");
        fix.put(TopicConfig.RETENTION_MS_CONFIG, "-1");
      }
      if (bytes >= 0) {
        problems.add(
            "cleanup.policy="
                + policy
                + " with retention.bytes="
                + bytes
                + " deletes models once the partition holds more than that");
        fix.put(TopicConfig.RETENTION_BYTES_CONFIG, "-1");
      }
      if (!fix.isEmpty()) {
        fix.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
      }
    }
    long max = parse(config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG));
    if (max >= 0 && max < MAX_MODEL_BYTES) {
      problems.add(
          "max.message.bytes="
              + max
              + " refuses models larger than that (stepcast takes models up to "
              + MAX_MODEL_BYTES
              + " bytes)");
      fix.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_MODEL_BYTES));
    }
    if (problems.isEmpty()) {
      return;
    }
    StringBuilder add = new StringBuilder();
    for (Map.Entry<String, String> e : fix.entrySet()) {
      add.append(add.length() == 0 ? "" : ",").append(e.getKey()).append('=').append(e.getValue());
    }
    throw new ConfigException(
        "model topic " + topic,
        String.join(", ", fix.keySet()),
        String.join("; ", problems)
            + " (a broker that auto-creates topics gives them its defaults; stepcast creates the"
            + " model topic compacted when it gets there first)",
        "kafka-configs.sh --bootstrap-server "
            + bootstrap
            + " --alter --entity-type topics --entity-name "
            + topic
            + " --add-config "
            + add);
  }

  private static long parse(String v) {
    if (v == null || v.isBlank()) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Publishes a model for a pipeline under its version's key and waits until it is acknowledged.
   * Create the topic first ({@link #ensure}): a producer's metadata request can make a broker
   * auto-create it with its defaults.
   */
  public static void publish(
      String bootstrap,
      Map<String, ?> clientProps,
      String topic,
      String pipeline,
      String version,
      byte[] onnx)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (onnx.length > MAX_MODEL_BYTES) {
      throw new IllegalArgumentException(
          "model "
              + version
              + " is "
              + onnx.length
              + " bytes; the model topic takes models up to "
              + MAX_MODEL_BYTES
              + " bytes");
    }
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_REQUEST_BYTES);
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 2L * MAX_REQUEST_BYTES);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, key(pipeline, version), onnx);
      r.headers().add(VERSION_HEADER, version.getBytes(StandardCharsets.UTF_8));
      producer.send(r).get(60, TimeUnit.SECONDS);
    }
  }

  /**
   * Reads the model a running instance tries first for a pipeline: the highest-ranked record (by
   * its spec's creation time, then version) up to the topic's current end; null if none.
   */
  public static byte[] latest(
      String bootstrap, Map<String, ?> clientProps, String topic, String pipeline) {
    try (KafkaConsumer<String, byte[]> c = consumer(bootstrap, clientProps)) {
      List<TopicPartition> parts = partitions(c, topic);
      if (parts.isEmpty()) {
        return null;
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      Map<String, ModelCandidate> byKey = new HashMap<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!reached(c, end) && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
          Follower.take(r, pipeline, byKey);
        }
      }
      ModelCandidate best = null;
      for (ModelCandidate m : byKey.values()) {
        if (m.problem() == null && m.newerThan(best)) {
          best = m;
        }
      }
      try {
        return best == null ? null : best.loader().bytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e); // an in-memory record: cannot happen
      }
    }
  }

  private static boolean reached(KafkaConsumer<?, ?> c, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static KafkaConsumer<String, byte[]> consumer(
      String bootstrap, Map<String, ?> clientProps) {
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_REQUEST_BYTES);
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, MAX_REQUEST_BYTES);
    // Never let a metadata request of this consumer create the topic with the broker's defaults.
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    p.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 30_000);
    p.remove(ConsumerConfig.GROUP_ID_CONFIG);
    p.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
  }

  private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
    List<TopicPartition> out = new ArrayList<>();
    List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
    if (infos != null) {
      for (PartitionInfo i : infos) {
        out.add(new TopicPartition(topic, i.partition()));
      }
    }
    return out;
  }

  /**
   * Follows the model topic in a background thread and hands the registry every model version
   * published for the pipeline as a candidate. No consumer group: every instance reads the whole
   * topic.
   *
   * <p>It cannot die: partitions are looked up again until there are some (right after the topic is
   * created a broker may not know it yet, and a consumer assigned nothing cannot poll) and every 30
   * s (partitions added later); any failure is counted in its {@link SourceHealth}, logged once per
   * distinct reason, and retried after a backoff with a new consumer that resumes where the old one
   * stopped.
   */
  public static final class Follower implements AutoCloseable {
    private static final long REFRESH_PARTITIONS_MS = 30_000;
    private static final long MAX_BACKOFF_MS = 30_000;

    private final String bootstrap;
    private final Map<String, ?> clientProps;
    private final String topic;
    private final String pipeline;
    private final ModelRegistry registry;
    private final SourceHealth health;
    private final Thread thread;
    // The newest record of each key (one per version), the positions reached, by this thread only.
    private final Map<String, ModelCandidate> byKey = new HashMap<>();
    private final Map<TopicPartition, Long> next = new HashMap<>();
    // End offsets when each partition was assigned: the first view is complete once reached.
    private final Map<TopicPartition, Long> catchUpTo = new HashMap<>();
    private boolean caughtUp;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running = true;
    // Counted down by close: ends a backoff wait without interrupting the thread (an interrupt
    // that lands while the consumer closes makes Kafka log an ERROR with a stack trace).
    private final CountDownLatch stopped = new CountDownLatch(1);

    public Follower(
        String bootstrap,
        Map<String, ?> clientProps,
        String topic,
        String pipeline,
        ModelRegistry registry) {
      this.bootstrap = bootstrap;
      this.clientProps = clientProps;
      this.topic = topic;
      this.pipeline = pipeline;
      this.registry = registry;
      this.health = registry.source(ModelCandidate.Origin.TOPIC, 120_000);
      this.thread = new Thread(this::follow, "stepcast-model-topic");
      thread.setDaemon(true);
      thread.start();
    }

    private void follow() {
      long backoff = 500;
      long refreshAt = 0;
      boolean dirty = false;
      while (running) {
        try {
          KafkaConsumer<String, byte[]> c = consumer;
          if (c == null) {
            c = consumer(bootstrap, clientProps);
            consumer = c;
            refreshAt = 0;
            if (!running) {
              break;
            }
          }
          if (System.currentTimeMillis() >= refreshAt) {
            assign(c);
            refreshAt = System.currentTimeMillis() + REFRESH_PARTITIONS_MS;
          }
          if (c.assignment().isEmpty()) {
            // The topic is not known yet: ask again soon rather than poll nothing (which throws).
            if (!caughtUp || registry.waitingForSources()) {
              caughtUp = true; // nothing to read: the registry need not wait for this source
              registry.candidates(ModelCandidate.Origin.TOPIC, List.of());
            }
            refreshAt = System.currentTimeMillis() + backoff;
            health.success();
            if (stopped.await(backoff, TimeUnit.MILLISECONDS)) {
              break;
            }
            backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            continue;
          }
          for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
            dirty |= take(r, pipeline, byKey);
            next.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
          }
          if (!caughtUp && caughtUp(c)) {
            caughtUp = true;
            dirty = true;
          }
          if (caughtUp && (dirty || registry.waitingForSources())) {
            registry.candidates(ModelCandidate.Origin.TOPIC, new ArrayList<>(byKey.values()));
            dirty = false;
            // A candidate the registry can never serve while the current one serves is not kept.
            byKey.values().removeIf(registry::outranked);
          }
          health.success();
          backoff = 500;
        } catch (WakeupException e) {
          // closing (or a spurious wakeup: the loop checks running)
        } catch (InterruptedException e) {
          break;
        } catch (Throwable t) { // NOPMD: the follower must outlive any failure
          if (!running) {
            break;
          }
          dirty = true;
          if (health.failure(t)) {
            LOG.warn(
                "following model topic {} failed (retrying with backoff): {}", topic, t.toString());
          }
          KafkaConsumer<String, byte[]> c = consumer;
          consumer = null;
          closeQuietly(c);
          try {
            if (stopped.await(backoff, TimeUnit.MILLISECONDS)) {
              break;
            }
          } catch (InterruptedException e) {
            break;
          }
          backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        }
      }
      closeQuietly(consumer);
    }

    /** Assigns every partition the topic has now; new ones resume where this follower stopped. */
    private void assign(KafkaConsumer<String, byte[]> c) {
      List<TopicPartition> parts = partitions(c, topic);
      if (parts.isEmpty() || c.assignment().containsAll(parts)) {
        return;
      }
      c.assign(parts);
      if (!caughtUp) {
        catchUpTo.putAll(c.endOffsets(parts, Duration.ofSeconds(30)));
      }
      for (TopicPartition tp : parts) {
        Long at = next.get(tp);
        if (at == null) {
          c.seekToBeginning(List.of(tp));
        } else {
          c.seek(tp, at);
        }
      }
    }

    private boolean caughtUp(KafkaConsumer<String, byte[]> c) {
      for (Map.Entry<TopicPartition, Long> e : catchUpTo.entrySet()) {
        if (c.assignment().contains(e.getKey()) && c.position(e.getKey()) < e.getValue()) {
          return false;
        }
      }
      return true;
    }

    /**
     * Takes a record of the pipeline into {@code byKey}: a model (ranked, or refused with the
     * problem) or a tombstone. Returns whether anything changed.
     */
    static boolean take(
        ConsumerRecord<String, byte[]> r, String pipeline, Map<String, ModelCandidate> byKey) {
      if (!forPipeline(r.key(), pipeline)) {
        return false;
      }
      if (r.value() == null) {
        return byKey.remove(r.key()) != null;
      }
      String source = r.topic() + "/" + r.partition() + "@" + r.offset();
      byte[] onnx = r.value();
      byKey.put(
          r.key(),
          ModelCandidate.of(ModelCandidate.Origin.TOPIC, source, source, onnx, () -> onnx));
      return true;
    }

    private static void closeQuietly(KafkaConsumer<?, ?> c) {
      if (c == null) {
        return;
      }
      // Stopping interrupts this thread, often inside poll: a consumer closed with the interrupt
      // flag set logs its fetch-session cleanup as an ERROR with a stack trace. Close it with the
      // flag cleared, then set it again.
      boolean interrupted = Thread.interrupted();
      try {
        c.close(CloseOptions.timeout(Duration.ofSeconds(interrupted ? 1 : 5)));
      } catch (RuntimeException e) {
        LOG.debug("closing the model topic consumer failed", e);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    /** The health of this source. */
    public SourceHealth health() {
      return health;
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      stopped.countDown();
      KafkaConsumer<String, byte[]> c = consumer;
      if (c != null) {
        c.wakeup();
      }
      thread.join(10_000);
      if (thread.isAlive()) {
        thread.interrupt(); // wedged somewhere a wakeup does not reach
        thread.join(10_000);
      }
      health.close();
    }
  }
}
