package io.stepcast.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a topic's history once: every partition from the beginning up to the end offsets it had
 * when the read started, then stops. For training from what the input topic holds.
 *
 * <p>No consumer group: the partitions are assigned, nothing is committed, and a training run never
 * disturbs the offsets of a running application. {@code read_committed}, so records of aborted
 * transactions are not read; the end offsets are then the last stable offsets, which is exactly
 * what such a consumer can reach.
 */
public final class TopicHistory {

  /** Receives one record's key and value. */
  @FunctionalInterface
  public interface RecordSink {
    /** Called for each record, in offset order within each partition. */
    void accept(int partition, long offset, byte[] key, byte[] value);
  }

  private TopicHistory() {}

  /**
   * Reads {@code topic} from the beginning to its current end.
   *
   * @return the number of records read
   * @throws KafkaException when the topic does not exist or the end is not reached within {@code
   *     timeout}
   */
  public static long read(
      String bootstrap,
      Map<String, ?> clientProps,
      String topic,
      Duration timeout,
      RecordSink sink) {
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    p.remove(ConsumerConfig.GROUP_ID_CONFIG);
    long count = 0;
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<PartitionInfo> infos = c.partitionsFor(topic, timeout);
      if (infos == null || infos.isEmpty()) {
        throw new KafkaException("topic " + topic + " does not exist or has no partitions");
      }
      List<TopicPartition> parts = new ArrayList<>();
      for (PartitionInfo i : infos) {
        parts.add(new TopicPartition(topic, i.partition()));
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts, timeout);
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout.toMillis());
      while (!reached(c, end)) {
        if (System.nanoTime() > deadline) {
          throw new KafkaException(
              "reading topic "
                  + topic
                  + " did not reach its end offsets "
                  + end
                  + " within "
                  + timeout);
        }
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          if (r.offset() < end.get(tp)) {
            sink.accept(r.partition(), r.offset(), r.key(), r.value());
            count++;
          }
        }
      }
    }
    return count;
  }

  private static boolean reached(KafkaConsumer<?, ?> c, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }
}
