package io.stepcast.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What stepcast needs from any Kafka cluster it runs on, checked against the embedded broker
 * ({@link EmbeddedKafkaBrokerEmbeddedIT}) and, when Docker is there, a real one ({@link
 * EmbeddedKafkaBrokerContainerIT}): records round-trip, transactions commit and abort (exactly-once
 * works on a single node), topics are created idempotently and multi-megabyte records fit.
 */
abstract class EmbeddedKafkaBrokerIT {

  static final Duration TIMEOUT = Duration.ofSeconds(60);

  private Admin admin;

  /** The cluster under test. */
  protected abstract String bootstrapServers();

  @BeforeEach
  void openAdmin() {
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
  }

  @AfterEach
  void closeAdmin() {
    admin.close(Duration.ofSeconds(10));
  }

  @Test
  void shouldRoundTripRecordsInOrder() {
    String topic = TestTopics.unique("round-trip");
    Topics.ensure(admin, topic, 1, Map.of());
    List<Map.Entry<String, String>> sent =
        IntStream.range(0, 10).mapToObj(i -> Map.entry("k" + (i % 3), "v" + i)).toList();

    TestRecords.produce(bootstrapServers(), topic, sent);

    List<ConsumerRecord<String, String>> received =
        TestRecords.consume(bootstrapServers(), topic, sent.size(), TIMEOUT);
    assertThat(received)
        .extracting(r -> Map.entry(r.key(), r.value()))
        .containsExactlyElementsOf(sent);
  }

  @Test
  void shouldShowCommittedTransactionAndHideAbortedOneFromReadCommittedConsumer() {
    String topic = TestTopics.unique("transactions");
    Topics.ensure(admin, topic, 1, Map.of());
    Map<String, Object> config = TestRecords.producerConfig(bootstrapServers());
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TestTopics.unique("tx"));

    try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, "a", "aborted-1"));
      producer.send(new ProducerRecord<>(topic, "a", "aborted-2"));
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, "a", "committed-1"));
      producer.send(new ProducerRecord<>(topic, "a", "committed-2"));
      producer.commitTransaction();
    }

    // The committed records come after the aborted ones in the log, so reading them proves the
    // read_committed consumer went past the aborted ones.
    assertThat(TestRecords.consume(bootstrapServers(), topic, 2, TIMEOUT))
        .extracting(ConsumerRecord::value)
        .containsExactly("committed-1", "committed-2");
    // The aborted records are in the log: only the isolation level hides them.
    assertThat(
            TestRecords.consume(
                bootstrapServers(),
                topic,
                4,
                TIMEOUT,
                Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted")))
        .extracting(ConsumerRecord::value)
        .containsExactly("aborted-1", "aborted-2", "committed-1", "committed-2");
  }

  @Test
  void shouldCreateTopicOnceAndKeepExistingTopic() {
    String topic = TestTopics.unique("ensure");

    boolean created = Topics.ensure(admin, topic, 3, Map.of("cleanup.policy", "compact"));
    boolean createdAgain = Topics.ensure(admin, topic, 5, Map.of());
    Topics.waitForTopics(admin, List.of(topic), TIMEOUT);

    assertThat(created).isTrue();
    assertThat(createdAgain).isFalse();
    assertThat(
            admin.describeTopics(List.of(topic)).topicNameValues().get(topic).toCompletionStage())
        .succeedsWithin(TIMEOUT)
        .satisfies(d -> assertThat(d.partitions()).hasSize(3));
  }

  @Test
  void shouldAcceptRecordsOfSeveralMegabytes() {
    String topic = TestTopics.unique("large");
    Topics.ensure(admin, topic, 1, Map.of());
    String big = "x".repeat(6 * 1024 * 1024);
    Map<String, Object> config = TestRecords.producerConfig(bootstrapServers());
    config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 * 1024 * 1024);

    try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
      assertThat(producer.send(new ProducerRecord<>(topic, "model", big))).succeedsWithin(TIMEOUT);
    }

    assertThat(TestRecords.consume(bootstrapServers(), topic, 1, TIMEOUT))
        .singleElement()
        .satisfies(r -> assertThat(r.value()).hasSize(big.length()));
  }
}
