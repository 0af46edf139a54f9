package io.stepcast.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.model.ModelSpec.TargetSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The step-model contract's several targets and horizons, stated in the spec JSON. */
class ModelSpecOutputsTest {

  private static ModelSpec.Builder base() {
    return ModelSpec.builder()
        .version("v1")
        .pipeline("weather")
        .network(CellType.LSTM, 1, 4)
        .features(List.of("temperature:difference", "pressure", "wind"));
  }

  @Test
  void shouldNameEveryOutputTargetMajorAndRoundTripThroughJson() {
    ModelSpec s =
        base()
            .outputs(
                List.of(
                    new TargetSpec("temperature", "difference"), new TargetSpec("wind", "none")),
                List.of(1, 6, 24))
            .build();
    assertThat(s.outputSize()).isEqualTo(6);
    assertThat(s.target()).isEqualTo("temperature");
    assertThat(s.targetTransform()).isEqualTo("difference");
    assertThat(s.outputs())
        .containsExactly(
            "temperature@1", "temperature@6", "temperature@24", "wind@1", "wind@6", "wind@24");
    assertThat(s.outputIndex(1, 2)).isEqualTo(5);
    String json = s.toJson();
    assertThat(json)
        .contains("\"horizons\":[1,6,24]")
        .contains("\"outputs\":[\"temperature@1\"")
        .contains("{\"name\":\"wind\",\"transform\":\"none\"}");
    assertThat(ModelSpec.fromJson(json)).isEqualTo(s);
  }

  @Test
  void shouldReadASpecWrittenBeforeTargetsAndHorizonsAsOneTargetAtTheNextEvent() {
    ModelSpec old = base().target("temperature", "difference").build();
    String json = old.toJson().replaceAll(",\"targets\":\\[[^]]*]", "");
    json = json.replaceAll(",\"horizons\":\\[[^]]*]", "").replaceAll(",\"outputs\":\\[[^]]*]", "");
    assertThat(json).doesNotContain("horizons").doesNotContain("outputs");
    ModelSpec read = ModelSpec.fromJson(json);
    assertThat(read.targets()).containsExactly(new TargetSpec("temperature", "difference"));
    assertThat(read.horizons()).containsExactly(1);
    assertThat(read.outputs()).containsExactly("temperature@1");
    // An older model with two unnamed outputs still reads; it names none.
    ModelSpec two = ModelSpec.fromJson(json.replace("\"outputSize\":1", "\"outputSize\":2"));
    assertThat(two.outputs()).isNull();
    assertThat(ModelSpec.fromJson(two.toJson())).isEqualTo(two);
  }

  @Test
  void shouldRefuseOutputsThatDisagreeWithTargetsAndHorizons() {
    String json =
        base()
            .outputs(List.of(new TargetSpec("temperature", "difference")), List.of(1, 6))
            .build()
            .toJson();
    assertThatThrownBy(
            () -> ModelSpec.fromJson(json.replace("\"outputSize\":2", "\"outputSize\":3")))
        .hasMessageContaining("outputSize")
        .hasMessageContaining("1 targets x 2 horizons");
    assertThatThrownBy(() -> ModelSpec.fromJson(json.replace("temperature@6", "temperature@7")))
        .hasMessageContaining("'outputs'");
    assertThatThrownBy(() -> ModelSpec.fromJson(json.replace("[1,6]", "[6,1]")))
        .hasMessageContaining("'horizons'");
    assertThatThrownBy(
            () ->
                ModelSpec.fromJson(
                    json.replace(
                        "{\"name\":\"temperature\",\"transform\":\"difference\"}",
                        "{\"name\":\"wind\",\"transform\":\"difference\"}")))
        .hasMessageContaining("must start with the target 'temperature'");
  }

  @Test
  void shouldStateTargetsHorizonsAndOutputsInTheSchema() {
    String json =
        base()
            .outputs(
                List.of(
                    new TargetSpec("temperature", "difference"), new TargetSpec("wind", "none")),
                List.of(1, 6))
            .golden(new ModelSpec.GoldenVectors(new float[][] {{1, 2, 3}}, new float[1][4]))
            .createdAt("2026-11-30T16:00:00Z")
            .build()
            .toJson();
    assertThat(SpecSchema.problems(json)).isEmpty();
    assertThat(
            SpecSchema.problems(json.replace("\"transform\":\"none\"", "\"transform\":\"ratio\"")))
        .isNotEmpty();
    assertThat(SpecSchema.problems(json.replace("\"horizons\":[1,6]", "\"horizons\":[0,6]")))
        .isNotEmpty();
  }
}
