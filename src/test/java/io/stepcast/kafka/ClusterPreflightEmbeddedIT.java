package io.stepcast.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.config.ConfigException;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.TestTopics;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

/**
 * {@code topics.replicationFactor} against a real (one-broker) cluster, before any topic exists.
 */
class ClusterPreflightEmbeddedIT {

  private static TopologySpec spec(String base, int replicationFactor) {
    Map<String, String> env = TestTopics.isolatedPipeline(base, 1);
    env.put("STEPCAST_TOPICS_REPLICATION_FACTOR", Integer.toString(replicationFactor));
    return SpecLoader.load(Path.of("topologies/weather.yaml"), env);
  }

  @Test
  void shouldRefuseAReplicationFactorAboveTheBrokerCountBeforeCreatingTopics() throws Exception {
    String bootstrap = EmbeddedKafkaSupport.cluster().bootstrapServers();
    TopologySpec spec = spec(TestTopics.unique("preflight-rf"), 3);
    assertThatThrownBy(() -> ClusterPreflight.check(spec, bootstrap, Map.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .doesNotContain("\n")
                    .contains("pipeline weather: field 'topics.replicationFactor': is 3")
                    .contains("has 1 broker(s)")
                    .contains("STEPCAST_TOPICS_REPLICATION_FACTOR=1"));
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      Set<String> topics = admin.listTopics().names().get(60, TimeUnit.SECONDS);
      assertThat(topics).doesNotContain(spec.topics().input(), spec.topics().model());
    }
  }

  @Test
  void shouldAcceptAHighReplicationFactorWhenEveryTopicExists() throws Exception {
    String bootstrap = EmbeddedKafkaSupport.cluster().bootstrapServers();
    TopologySpec spec = spec(TestTopics.unique("preflight-exists"), 3);
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      var t = spec.topics();
      for (String topic : new String[] {t.input(), t.output(), t.deadLetter(), t.model()}) {
        Topics.ensure(admin, topic, 1, (short) 1, Map.of());
      }
    }
    assertThatCode(() -> ClusterPreflight.check(spec, bootstrap, Map.of()))
        .doesNotThrowAnyException();
    assertThatCode(
            () ->
                ClusterPreflight.check(
                    spec(TestTopics.unique("preflight-ok"), 1), bootstrap, Map.of()))
        .doesNotThrowAnyException();
  }
}
