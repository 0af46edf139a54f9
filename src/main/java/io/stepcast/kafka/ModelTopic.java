package io.stepcast.kafka;

import io.stepcast.model.ModelRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model topic: compacted, one record per pipeline (key = pipeline name, value = the ONNX step
 * model's bytes), read from the beginning by every instance. Sized for multi-megabyte models.
 */
public final class ModelTopic {
  private static final Logger LOG = LoggerFactory.getLogger(ModelTopic.class);

  /** Largest model accepted on the topic (topic max.message.bytes, producer max.request.size). */
  public static final int MAX_MODEL_BYTES = 32 * 1024 * 1024;

  /** Header carrying the model version, for tools that do not parse ONNX. */
  public static final String VERSION_HEADER = "stepcast.model.version";

  private ModelTopic() {}

  /** Topic configuration of the model topic. */
  public static Map<String, String> topicConfig() {
    Map<String, String> c = new HashMap<>();
    c.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
    c.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_MODEL_BYTES));
    return c;
  }

  /** Creates the model topic if it does not exist. */
  public static void ensure(Admin admin, String topic, short replication) {
    Topics.ensure(admin, topic, 1, replication, topicConfig());
  }

  /** Publishes a model for a pipeline and waits until it is acknowledged. */
  public static void publish(
      String bootstrap,
      Map<String, ?> clientProps,
      String topic,
      String pipeline,
      String version,
      byte[] onnx)
      throws InterruptedException, ExecutionException, TimeoutException {
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_MODEL_BYTES + 1024 * 1024);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, pipeline, onnx);
      r.headers().add(VERSION_HEADER, version.getBytes(StandardCharsets.UTF_8));
      producer.send(r).get(60, TimeUnit.SECONDS);
    }
  }

  /**
   * Reads the latest model published for a pipeline, up to the topic's current end; null if none.
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
      byte[] latest = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!reached(c, end) && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
          if (pipeline.equals(r.key())) {
            latest = r.value();
          }
        }
      }
      return latest;
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
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_MODEL_BYTES + 1024 * 1024);
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, MAX_MODEL_BYTES + 1024 * 1024);
    p.remove(ConsumerConfig.GROUP_ID_CONFIG);
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
   * Follows the model topic in a background thread and offers each model published for the pipeline
   * to the registry. No consumer group: every instance reads the whole topic.
   */
  public static final class Follower implements AutoCloseable {
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private volatile boolean running = true;

    public Follower(
        String bootstrap,
        Map<String, ?> clientProps,
        String topic,
        String pipeline,
        ModelRegistry registry) {
      this.consumer = consumer(bootstrap, clientProps);
      List<TopicPartition> parts = partitions(consumer, topic);
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      this.thread =
          new Thread(
              () -> {
                try {
                  while (running) {
                    byte[] latest = null;
                    String source = null;
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                      if (pipeline.equals(r.key()) && r.value() != null) {
                        latest = r.value();
                        source = r.topic() + "/" + r.partition() + "@" + r.offset();
                      }
                    }
                    if (latest != null) {
                      registry.offer(latest, source);
                    }
                  }
                } catch (WakeupException e) {
                  // closing
                } catch (RuntimeException e) {
                  LOG.error("following model topic {} stopped", topic, e);
                } finally {
                  consumer.close();
                }
              },
              "stepcast-model-topic");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      consumer.wakeup();
      thread.join(10_000);
    }
  }
}
