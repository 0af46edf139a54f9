package io.stepcast.testsupport;

import org.testcontainers.kafka.KafkaContainer;

/**
 * Kafka brokers in Docker for the {@code *ContainerIT} variants of the integration tests, which
 * JUnit skips when Docker is not available ({@code @Testcontainers(disabledWithoutDocker = true)}).
 */
public final class KafkaContainers {

  /** The broker image; override with {@code -Dstepcast.kafka.image=...}. */
  public static final String IMAGE =
      System.getProperty("stepcast.kafka.image", "apache/kafka:4.1.0");

  private KafkaContainers() {}

  /**
   * A single-node KRaft broker configured like {@link io.stepcast.kafka.EmbeddedKafkaBroker}: the
   * module already sets the offsets and transaction topics to one replica; the share-group state
   * topic and the record size limit are added here.
   */
  public static KafkaContainer newKafka() {
    return new KafkaContainer(IMAGE)
        .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1")
        .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1")
        .withEnv("KAFKA_MESSAGE_MAX_BYTES", Integer.toString(16 * 1024 * 1024))
        .withEnv("KAFKA_NUM_PARTITIONS", "1");
  }
}
