package io.stepcast.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaBrokerTest {

  @Test
  void shouldRejectOverridesOfListenerQuorumAndDirectorySettings() {
    for (String key :
        new String[] {"listeners", "node.id", "log.dirs", "controller.quorum.voters"}) {
      assertThatThrownBy(() -> EmbeddedKafkaBroker.builder(Path.of("unused")).property(key, "x"))
          .as(key)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + key + "' is set by EmbeddedKafkaBroker");
    }
  }

  @Test
  void shouldPresetWhatASingleNodeNeedsForExactlyOnce() {
    Map<String, String> defaults = EmbeddedKafkaBroker.defaultBrokerProperties();

    assertThat(defaults)
        .containsEntry("offsets.topic.replication.factor", "1")
        .containsEntry("transaction.state.log.replication.factor", "1")
        .containsEntry("transaction.state.log.min.isr", "1")
        .containsEntry("share.coordinator.state.topic.replication.factor", "1")
        .containsEntry("share.coordinator.state.topic.min.isr", "1")
        .containsEntry("group.initial.rebalance.delay.ms", "0")
        .containsEntry("num.partitions", "1")
        .containsEntry("message.max.bytes", Integer.toString(16 * 1024 * 1024));
  }

  @Test
  void shouldRejectPortsOutOfRange() {
    assertThatThrownBy(() -> EmbeddedKafkaBroker.builder(Path.of("unused")).port(70000))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
