package io.stepcast.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.model.ModelSpec.GoldenVectors;
import io.stepcast.model.ModelSpec.StateSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelSpecTest {

  private static ModelSpec sample() {
    return ModelSpec.builder()
        .version("2025-06-01.3")
        .pipeline("stocks")
        .network(CellType.LSTM, 2, 16)
        .features(List.of("close", "volume", "hour"))
        .target("close", "log_return")
        .burnIn(32)
        .training("val_mae", 0.0123)
        .training("persistence_mae", 0.0150)
        .golden(
            new GoldenVectors(
                new float[][] {{1f, 2.5f, -3.25f}, {0.1f, 1e-7f, 12345.678f}},
                new float[][] {{0.5f}, {-0.125f}}))
        .createdAt("2025-06-01T10:15:30Z")
        .build();
  }

  @Test
  void shouldRoundTripThroughJson() {
    ModelSpec spec = sample();

    ModelSpec back = ModelSpec.fromJson(spec.toJson());

    assertThat(back).isEqualTo(spec);
    assertThat(back.golden().x()[1][2]).isEqualTo(12345.678f);
    assertThat(back.states()).containsExactly(new StateSpec("h", 32), new StateSpec("c", 32));
    assertThat(back.training()).containsEntry("val_mae", 0.0123);
    assertThat(spec.toJson()).contains("\"cell\":\"lstm\"");
  }

  @Test
  void shouldIgnoreUnknownFields() {
    String json = sample().toJson();
    String newer =
        "{\"addedInSpec7\":{\"nested\":[1,2,3]},\"quantized\":true,"
            + json.substring(1, json.length() - 1)
            + ",\"anotherNewField\":\"x\"}";

    ModelSpec back = ModelSpec.fromJson(newer);

    assertThat(back).isEqualTo(sample());
  }

  @Test
  void shouldFillDefaultsForGruStatesAndEmptyTraining() {
    ModelSpec spec =
        ModelSpec.fromJson(
            "{\"specVersion\":1,\"version\":\"v1\",\"pipeline\":\"p\",\"cell\":\"gru\",\"layers\":2,"
                + "\"hiddenSize\":8,\"inputSize\":1,\"outputSize\":1,\"features\":[\"t\"],"
                + "\"target\":\"t\"}");

    assertThat(spec.states()).containsExactly(new StateSpec("h", 16));
    assertThat(spec.training()).isEmpty();
    assertThat(spec.targetTransform()).isEqualTo("none");
    assertThat(spec.golden()).isNull();
  }

  @Test
  void shouldRefuseInconsistentSpecNamingTheField() {
    String json = sample().toJson().replace("\"inputSize\":3", "\"inputSize\":4");

    assertThatThrownBy(() -> ModelSpec.fromJson(json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("features");
  }

  @Test
  void shouldRefuseASpecThatNamesNoPipeline() {
    String json = sample().toJson().replace("\"pipeline\":\"stocks\",", "");
    assertThat(json).doesNotContain("pipeline");

    assertThatThrownBy(() -> ModelSpec.fromJson(json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'pipeline'");
    assertThatThrownBy(() -> sample().toBuilder().pipeline(" ").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'pipeline'");
  }

  @Test
  void shouldRefuseUnknownTargetTransform() {
    assertThatThrownBy(() -> sample().toBuilder().target("close", "ratio").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("targetTransform");
  }

  @Test
  void shouldRefuseMalformedJson() {
    assertThatThrownBy(() -> ModelSpec.fromJson("{\"version\":"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed");
  }

  @Test
  void shouldCompareGoldenVectorsByContent() {
    GoldenVectors a = new GoldenVectors(new float[][] {{1f}}, new float[][] {{2f}});
    GoldenVectors b = new GoldenVectors(new float[][] {{1f}}, new float[][] {{2f}});
    GoldenVectors c = new GoldenVectors(new float[][] {{1f}}, new float[][] {{2.5f}});

    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotEqualTo(c);
  }
}
