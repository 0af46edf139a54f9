package io.stepcast.kafka;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.config.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelTopicCheckTest {
  @Test
  void shouldRefuseABrokerDefaultTopicWithTheExactKafkaConfigsCommand() {
    Map<String, String> autoCreated =
        Map.of(
            "cleanup.policy",
            "delete",
            "retention.ms",
            "604800000",
            "retention.bytes",
            "-1",
            "max.message.bytes",
            "1048588");
    assertThatThrownBy(() -> ModelTopic.check("kafka:9092", "stepcast-models", autoCreated))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("deletes every model PT168H after it was published")
        .hasMessageContaining("max.message.bytes=1048588")
        .hasMessageContaining(
            "kafka-configs.sh --bootstrap-server kafka:9092 --alter --entity-type topics"
                + " --entity-name stepcast-models --add-config"
                + " retention.ms=-1,cleanup.policy=compact,max.message.bytes=33554432");
  }

  @Test
  void shouldRefuseSizeRetentionUnderCompactAndDelete() {
    Map<String, String> c =
        Map.of(
            "cleanup.policy",
            "compact,delete",
            "retention.ms",
            "-1",
            "retention.bytes",
            "1000000",
            "max.message.bytes",
            "33554432");
    assertThatThrownBy(() -> ModelTopic.check("b:9092", "m", c))
        .hasMessageContaining("retention.bytes=1000000")
        .hasMessageContaining("--add-config retention.bytes=-1,cleanup.policy=compact");
  }

  @Test
  void shouldAcceptTheTopicStepcastCreates() {
    assertThatCode(() -> ModelTopic.check("b:9092", "m", ModelTopic.topicConfig()))
        .doesNotThrowAnyException();
    Map<String, String> deleteForever =
        Map.of("cleanup.policy", "delete", "retention.ms", "-1", "max.message.bytes", "67108864");
    assertThatCode(() -> ModelTopic.check("b:9092", "m", deleteForever)).doesNotThrowAnyException();
  }
}
