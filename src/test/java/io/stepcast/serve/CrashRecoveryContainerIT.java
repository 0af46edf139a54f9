package io.stepcast.serve;

import io.stepcast.testsupport.KafkaContainers;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/** {@link CrashRecoveryIT} against Kafka in Docker; skipped without Docker. */
@Testcontainers(disabledWithoutDocker = true)
class CrashRecoveryContainerIT extends CrashRecoveryIT {
  @Container static final KafkaContainer KAFKA = KafkaContainers.newKafka();

  @Override
  protected String bootstrapServers() {
    return KAFKA.getBootstrapServers();
  }
}
