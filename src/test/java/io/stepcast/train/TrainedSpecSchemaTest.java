package io.stepcast.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.Csv;
import io.stepcast.model.ModelSpec;
import io.stepcast.model.OnnxMetadata;
import io.stepcast.model.SpecSchema;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spec of a model the trainer writes follows the published JSON Schema: a field the trainer
 * starts writing without describing it there fails this test.
 */
class TrainedSpecSchemaTest {
  @TempDir Path dir;

  @Test
  void shouldWriteASpecThatFollowsTheSchema() throws Exception {
    // Two LSTM layers: the spec's states must be [batch, layers * hiddenSize] each.
    TopologySpec spec =
        SyntheticHistory.spec(
            dir,
            Map.of(
                "STEPCAST_TRAINING_CELL", "lstm",
                "STEPCAST_TRAINING_LAYERS", "2",
                "STEPCAST_TRAINING_HIDDEN_SIZE", "6"));
    TrainingData data =
        TrainingData.fromCsv(spec, Csv.parse("synth.csv", SyntheticHistory.csv(2, 160, 5)));
    TrainConfig cfg = TrainingRun.config(spec, null, 2);

    TrainingRun.Result result =
        TrainingRun.run(spec, data, cfg, "synth-schema-1", TrainingListener.NONE);

    String json = OnnxMetadata.read(result.onnx()).get(ModelSpec.METADATA_KEY);
    assertThat(SpecSchema.problems(json)).isEmpty();
    ModelSpec written = ModelSpec.fromJson(json);
    assertThat(written.training()).containsKeys("val_mae", "persistence_mae");
    assertThat(written.states())
        .containsExactly(new ModelSpec.StateSpec("h", 12), new ModelSpec.StateSpec("c", 12));
  }
}
