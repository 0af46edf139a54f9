package io.stepcast.testsupport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Producing and consuming string records in integration tests, waiting on counts, not clocks. */
public final class TestRecords {

  private TestRecords() {}

  /** An idempotent, {@code acks=all} producer config with string serializers. */
  public static Map<String, Object> producerConfig(String bootstrapServers) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    return p;
  }

  /**
   * A group-less {@code read_committed} consumer config with string deserializers that starts at
   * the earliest offset.
   */
  public static Map<String, Object> consumerConfig(String bootstrapServers) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    return c;
  }

  /** Sends the records in order and waits until all are acknowledged. */
  public static List<RecordMetadata> produce(
      String bootstrapServers, String topic, List<Map.Entry<String, String>> records) {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(producerConfig(bootstrapServers))) {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (Map.Entry<String, String> r : records) {
        sent.add(producer.send(new ProducerRecord<>(topic, r.getKey(), r.getValue())));
      }
      List<RecordMetadata> acked = new ArrayList<>();
      for (Future<RecordMetadata> f : sent) {
        acked.add(f.get());
      }
      return acked;
    } catch (ExecutionException e) {
      throw new AssertionError("Producing to " + topic + " failed: " + e.getCause(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("Interrupted while producing to " + topic, e);
    }
  }

  /**
   * Reads {@code topic} from the beginning with {@code read_committed} isolation (all partitions,
   * no consumer group) until at least {@code expectedCount} records arrived, and returns them in
   * the order read. Fails with the records seen so far when fewer arrive within {@code timeout}.
   */
  public static List<ConsumerRecord<String, String>> consume(
      String bootstrapServers, String topic, int expectedCount, Duration timeout) {
    return consume(bootstrapServers, topic, expectedCount, timeout, Map.of());
  }

  /**
   * As {@link #consume(String, String, int, Duration)} with consumer settings overridden (for
   * example {@code isolation.level=read_uncommitted}).
   */
  public static List<ConsumerRecord<String, String>> consume(
      String bootstrapServers,
      String topic,
      int expectedCount,
      Duration timeout,
      Map<String, Object> consumerOverrides) {
    Map<String, Object> config = consumerConfig(bootstrapServers);
    config.putAll(consumerOverrides);
    long deadline = System.nanoTime() + timeout.toNanos();
    List<ConsumerRecord<String, String>> received = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
      List<TopicPartition> partitions = new ArrayList<>();
      Await.until(
          timeout,
          () -> {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
            infos.forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
            return !infos.isEmpty();
          },
          () -> "topic " + topic + " to exist");
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      while (received.size() < expectedCount) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "Expected "
                  + expectedCount
                  + " records on "
                  + topic
                  + " within "
                  + timeout.toMillis()
                  + " ms, got "
                  + received.size()
                  + ": "
                  + received.stream()
                      .map(r -> r.key() + "=" + r.value())
                      .collect(Collectors.joining(", ", "[", "]")));
        }
        consumer
            .poll(Duration.ofNanos(Math.min(left, Duration.ofMillis(200).toNanos())))
            .forEach(received::add);
      }
    }
    return received;
  }

  /**
   * Assigns every partition of {@code topic} to {@code consumer} at its beginning; false when the
   * topic does not exist (yet).
   */
  public static boolean assignFromBeginning(KafkaConsumer<?, ?> consumer, String topic) {
    List<TopicPartition> partitions = new ArrayList<>();
    consumer
        .partitionsFor(topic, Duration.ofSeconds(10))
        .forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    return !partitions.isEmpty();
  }

  /**
   * Reads {@code topic} from the beginning (read_committed, all partitions) for {@code duration}
   * and returns everything seen: for checking that nothing beyond the expected records arrives.
   */
  public static List<ConsumerRecord<String, String>> drain(
      String bootstrapServers, String topic, Duration duration) {
    List<ConsumerRecord<String, String>> received = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(consumerConfig(bootstrapServers))) {
      if (!assignFromBeginning(consumer, topic)) {
        return received; // the topic does not exist (yet)
      }
      long deadline = System.nanoTime() + duration.toNanos();
      while (System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(received::add);
      }
    }
    return received;
  }
}
