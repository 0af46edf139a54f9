package io.stepcast.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka Streams application with {@code processing.guarantee=exactly_once_v2} runs on the
 * cluster: the broker settings for a single node are what EOS needs (the transaction state topic
 * with one replica, above all).
 */
abstract class ExactlyOnceStreamsIT {

  private static final Logger log = LoggerFactory.getLogger(ExactlyOnceStreamsIT.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final int PARTITIONS = 2;

  /** The cluster under test. */
  protected abstract String bootstrapServers();

  /** source -> mapValues(upper case) -> sink, every node named. */
  static Topology upperCaseTopology(String input, String output) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()).withName("source"))
        .mapValues(v -> v.toUpperCase(Locale.ROOT), Named.as("upper-case"))
        .to(output, Produced.with(Serdes.String(), Serdes.String()).withName("sink"));
    return builder.build();
  }

  @Test
  void shouldTransformEveryRecordOnceWithExactlyOnceV2(@TempDir Path stateDir) throws Exception {
    String input = TestTopics.unique("eos-in");
    String output = TestTopics.unique("eos-out");
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
      Topics.ensure(admin, input, PARTITIONS, Map.of());
      Topics.ensure(admin, output, PARTITIONS, Map.of());
    }
    List<Map.Entry<String, String>> sent =
        IntStream.range(0, 20).mapToObj(i -> Map.entry("s" + (i % 4), "event-" + i)).toList();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, TestTopics.unique("eos-app"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    long started = System.nanoTime();
    try (KafkaStreams streams = new KafkaStreams(upperCaseTopology(input, output), props)) {
      streams.start();
      Await.until(
          TIMEOUT,
          () -> streams.state() == KafkaStreams.State.RUNNING,
          () -> "Kafka Streams to be RUNNING, is " + streams.state());
      long running = System.nanoTime();

      TestRecords.produce(bootstrapServers(), input, sent);
      List<ConsumerRecord<String, String>> received =
          TestRecords.consume(bootstrapServers(), output, sent.size(), TIMEOUT);
      log.info(
          "EOS v2 topology: RUNNING after {} ms, {} records through in {} ms",
          Duration.ofNanos(running - started).toMillis(),
          received.size(),
          Duration.ofNanos(System.nanoTime() - running).toMillis());

      assertThat(received)
          .extracting(r -> Map.entry(r.key(), r.value()))
          .containsExactlyInAnyOrderElementsOf(
              sent.stream()
                  .map(e -> Map.entry(e.getKey(), e.getValue().toUpperCase(Locale.ROOT)))
                  .toList());
      // Per key (series), the order is kept.
      for (String key : List.of("s0", "s1", "s2", "s3")) {
        assertThat(received.stream().filter(r -> r.key().equals(key)).map(ConsumerRecord::value))
            .containsExactlyElementsOf(
                sent.stream()
                    .filter(e -> e.getKey().equals(key))
                    .map(e -> e.getValue().toUpperCase(Locale.ROOT))
                    .toList());
      }
      // Transactional writes leave commit markers, which take offsets of their own: more offsets
      // than records proves the output was written in transactions.
      assertThat(endOffsetSum(output)).isGreaterThan(sent.size());
      assertThat(streams.state()).isEqualTo(KafkaStreams.State.RUNNING);
    }
  }

  private long endOffsetSum(String topic) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
      Map<TopicPartition, OffsetSpec> request =
          IntStream.range(0, PARTITIONS)
              .boxed()
              .collect(
                  Collectors.toMap(p -> new TopicPartition(topic, p), p -> OffsetSpec.latest()));
      return admin.listOffsets(request).all().get().values().stream()
          .mapToLong(i -> i.offset())
          .sum();
    }
  }
}
