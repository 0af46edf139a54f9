package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.ModelTopic;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.train.SyntheticHistory;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stepcast model export --publish} before any {@code run} (the README's order) on a broker
 * that auto-creates topics: the model topic must come out compacted, without time retention and
 * sized for models, not with the broker's defaults.
 */
class ModelExportIT {
  @TempDir Path dir;

  private final String bootstrap = EmbeddedKafkaSupport.cluster().bootstrapServers();

  @Test
  void shouldCreateTheModelTopicCompactedWhenExportPublishesBeforeAnyRun() throws Exception {
    String modelTopic = TestTopics.unique("export-first") + "-models";
    Path spec = SyntheticHistory.specFile(dir, "topics: {model: " + modelTopic + "}");
    CliRun.Result r =
        CliRun.run(
            "model", "export", "-t", spec.toString(), "--publish", "-b", bootstrap, "--seed", "3");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("published synth-fixed-3 to topic " + modelTopic);

    Map<String, String> config = new HashMap<>();
    try (Admin admin = EmbeddedKafkaSupport.cluster().admin()) {
      ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, modelTopic);
      for (ConfigEntry e : admin.describeConfigs(List.of(res)).all().get().get(res).entries()) {
        config.put(e.name(), e.value());
      }
    }
    assertThat(config)
        .containsEntry("cleanup.policy", "compact")
        .containsEntry("retention.ms", "-1")
        .containsEntry("max.message.bytes", Integer.toString(ModelTopic.MAX_MODEL_BYTES));
    TopologySpec s = SpecLoader.load(spec, Map.of());
    assertThat(ModelTopic.latest(bootstrap, Map.of(), modelTopic, s.name())).isNotNull();
  }
}
