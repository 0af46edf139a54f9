package io.stepcast.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientPropertiesTest {

  @Test
  void shouldTurnVariablesIntoCheckedClientProperties() {
    assertThat(
            ClientProperties.validated(
                Map.of(
                    "STEPCAST_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                    "STEPCAST_KAFKA_COMPRESSION_TYPE", "zstd",
                    "STEPCAST_KAFKA_PRODUCER_LINGER_MS", "5",
                    "STEPCAST_KAFKA_TOPIC_MIN_INSYNC_REPLICAS", "2",
                    "STEPCAST_KAFKA_MY_PLUGIN_OWN_SETTING", "x",
                    "OTHER", "y")))
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("compression.type", "zstd")
        .containsEntry("producer.linger.ms", "5")
        .containsEntry("topic.min.insync.replicas", "2")
        .containsEntry("my.plugin.own.setting", "x")
        .hasSize(5);
  }

  @Test
  void shouldRejectAValueKafkaWouldRefuseInOneLine() {
    assertThatThrownBy(
            () -> ClientProperties.validated(Map.of("STEPCAST_KAFKA_COMPRESSION_TYPE", "zstdd")))
        .isInstanceOf(ConfigException.class)
        .hasMessageNotContaining("\n")
        .hasMessageStartingWith(
            "environment variable STEPCAST_KAFKA_COMPRESSION_TYPE: property 'compression.type':")
        .hasMessageContaining("zstdd")
        .hasMessageContaining("Fix: ");
    assertThatThrownBy(
            () -> ClientProperties.validated(Map.of("STEPCAST_KAFKA_PRODUCER_LINGER_MS", "soon")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("property 'producer.linger.ms'");
  }

  @Test
  void shouldNameTheNearestPropertyForAMisspeltOne() {
    assertThatThrownBy(
            () ->
                ClientProperties.validated(Map.of("STEPCAST_KAFKA_SECURITY_PROTOCLO", "SASL_SSL")))
        .isInstanceOf(ConfigException.class)
        .hasMessageNotContaining("\n")
        .hasMessageContaining("environment variable STEPCAST_KAFKA_SECURITY_PROTOCLO")
        .hasMessageContaining("did you mean security.protocol (STEPCAST_KAFKA_SECURITY_PROTOCOL)");
  }
}
