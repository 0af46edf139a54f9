package io.stepcast.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.config.TopologySpec.MissingPolicy;
import io.stepcast.config.TopologySpec.SeriesIdSource;
import io.stepcast.config.TopologySpec.TargetTransform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecLoaderTest {
  @TempDir Path dir;

  private Path write(String yaml) throws IOException {
    Path f = dir.resolve("spec.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private static final String MINIMAL = "name: demo\ntimestamp:\n  field: t\ntarget:\n  field: v\n";

  @Test
  void shouldLoadShippedSpecs() {
    TopologySpec weather = SpecLoader.load(Path.of("topologies/weather.yaml"), Map.of());
    assertThat(weather.target().transform()).isEqualTo(TargetTransform.DIFFERENCE);
    assertThat(weather.policies().missing()).isEqualTo(MissingPolicy.CARRY_FORWARD);
    TopologySpec stocks = SpecLoader.load(Path.of("topologies/stocks.yaml"), Map.of());
    assertThat(stocks.seriesId().from()).isEqualTo(SeriesIdSource.FIELD);
    assertThat(stocks.processing().guarantee()).isEqualTo("exactly_once_v2");
  }

  @Test
  void shouldFillDefaultsFromTheName() throws IOException {
    TopologySpec s = SpecLoader.load(write(MINIMAL), Map.of());
    assertThat(s.applicationId()).isEqualTo("stepcast-demo");
    assertThat(s.topics().input()).isEqualTo("demo-events");
    assertThat(s.topics().deadLetter()).isEqualTo("demo-dead-letters");
    assertThat(s.model().ringBuffer()).isEqualTo(32);
  }

  @Test
  void shouldLetEnvironmentOverrideAnyField() throws IOException {
    TopologySpec s =
        SpecLoader.load(
            write(MINIMAL),
            Map.of(
                "STEPCAST_TOPICS_DEAD_LETTER", "dlq",
                "STEPCAST_PROCESSING_NUM_STREAM_THREADS", "3",
                "STEPCAST_FEATURES", "[{field: pressure}, {calendar: hour_of_day}]"));
    assertThat(s.topics().deadLetter()).isEqualTo("dlq");
    assertThat(s.processing().numStreamThreads()).isEqualTo(3);
    assertThat(s.features()).hasSize(2);
  }

  @Test
  void shouldNameFileFieldAndFixForABadEnum() throws IOException {
    Path f = write(MINIMAL + "  transform: diff\n");
    assertThatThrownBy(() -> SpecLoader.load(f, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("target.transform")
        .hasMessageContaining("'diff'")
        .hasMessageContaining("difference");
  }

  @Test
  void shouldNameTheEnvironmentVariableWhenItIsTheCulprit() throws IOException {
    assertThatThrownBy(
            () ->
                SpecLoader.load(
                    write(MINIMAL), Map.of("STEPCAST_PROCESSING_GUARANTEE", "exactly_once")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("STEPCAST_PROCESSING_GUARANTEE")
        .hasMessageContaining("processing.guarantee")
        .hasMessageContaining("exactly_once_v2");
  }

  @Test
  void shouldRejectUnknownFieldsWithTheKnownOnes() throws IOException {
    assertThatThrownBy(() -> SpecLoader.load(write(MINIMAL + "  trasnform: none\n"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("target.trasnform")
        .hasMessageContaining("transform");
  }

  @Test
  void shouldRequireTheSeriesFieldWhenIdComesFromAField() throws IOException {
    assertThatThrownBy(
            () -> SpecLoader.load(write(MINIMAL + "seriesId:\n  from: field\n"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("seriesId.field");
  }

  @Test
  void shouldRejectAFeatureWithTwoKinds() throws IOException {
    assertThatThrownBy(
            () ->
                SpecLoader.load(
                    write(MINIMAL + "features:\n  - field: a\n    calendar: hour_of_day\n"),
                    Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("features[0]");
  }

  @Test
  void shouldRejectAMissingFileAndBadYaml() throws IOException {
    assertThatThrownBy(() -> SpecLoader.load(dir.resolve("nope.yaml"), Map.of()))
        .hasMessageContaining("nope.yaml")
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> SpecLoader.load(write("name: [x\n"), Map.of()))
        .hasMessageContaining("not valid YAML");
  }

  @Test
  void shouldRejectABadPatternAndZone() throws IOException {
    assertThatThrownBy(
            () ->
                SpecLoader.load(
                    write(MINIMAL + "  transform: none\n"),
                    Map.of("STEPCAST_TIMESTAMP_ZONE", "Mars/Olympus")))
        .hasMessageContaining("timestamp.zone");
    assertThatThrownBy(
            () -> SpecLoader.load(write(MINIMAL), Map.of("STEPCAST_TIMESTAMP_FORMAT", "pattern")))
        .hasMessageContaining("timestamp.pattern");
  }

  @Test
  void shouldListEnvironmentNamesForNestedFields() {
    assertThat(SpecLoader.envNames())
        .containsEntry("topics.deadLetter", "STEPCAST_TOPICS_DEAD_LETTER")
        .containsEntry("execution.fallbackToCpu", "STEPCAST_EXECUTION_FALLBACK_TO_CPU")
        .containsEntry("features", "STEPCAST_FEATURES");
  }
}
