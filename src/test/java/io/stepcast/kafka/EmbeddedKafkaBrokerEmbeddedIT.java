package io.stepcast.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.TestRecords;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link EmbeddedKafkaBrokerIT} on the shared embedded broker, plus what only it can do. */
class EmbeddedKafkaBrokerEmbeddedIT extends EmbeddedKafkaBrokerIT {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBrokerEmbeddedIT.class);

  @Override
  protected String bootstrapServers() {
    return EmbeddedKafkaSupport.cluster().bootstrapServers();
  }

  @AfterAll
  static void sharedBrokerReportedNoFatalFault() {
    assertThat(EmbeddedKafkaSupport.broker().fatalFault()).isEmpty();
  }

  @Test
  void shouldKeepTopicRecordsWhenRestartedOnSameDataDir(@TempDir Path dataDir) {
    String topic = "restart";
    List<Map.Entry<String, String>> sent =
        List.of(Map.entry("a", "1"), Map.entry("b", "2"), Map.entry("a", "3"));

    Duration firstStart;
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dataDir)) {
      firstStart = broker.startupDuration();
      assertThat(broker.formattedOnStart()).isTrue();
      try (Admin admin = admin(broker)) {
        assertThat(Topics.ensure(admin, topic, 1, Map.of())).isTrue();
      }
      TestRecords.produce(broker.bootstrapServers(), topic, sent);
      assertThat(broker.fatalFault()).isEmpty();
    }
    assertThat(dataDir.resolve(EmbeddedKafkaBroker.LOG_DIR_NAME)).isDirectory();

    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dataDir)) {
      log.info(
          "Embedded broker start: {} ms on a new directory, {} ms on the same directory",
          firstStart.toMillis(),
          broker.startupDuration().toMillis());
      assertThat(broker.formattedOnStart()).isFalse();
      try (Admin admin = admin(broker)) {
        assertThat(Topics.ensure(admin, topic, 1, Map.of())).isFalse();
      }
      assertThat(TestRecords.consume(broker.bootstrapServers(), topic, sent.size(), TIMEOUT))
          .extracting(r -> Map.entry(r.key(), r.value()))
          .containsExactlyElementsOf(sent);
      assertThat(broker.fatalFault()).isEmpty();
    }
  }

  @Test
  void shouldDeleteDataDirOnCloseOnlyWhenAsked(@TempDir Path parent) {
    Path kept = parent.resolve("kept");
    Path deleted = parent.resolve("deleted");

    EmbeddedKafkaBroker.builder(kept).start().close();
    EmbeddedKafkaBroker.builder(deleted).deleteOnClose(true).start().close();

    assertThat(kept.resolve(EmbeddedKafkaBroker.LOG_DIR_NAME).resolve("meta.properties"))
        .isRegularFile();
    assertThat(Files.exists(deleted)).isFalse();
  }

  private static Admin admin(EmbeddedKafkaBroker broker) {
    return Admin.create(
        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
  }
}
