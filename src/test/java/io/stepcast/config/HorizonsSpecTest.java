package io.stepcast.config;

import static io.stepcast.config.SpecFixtures.assertOneLine;
import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.TopologySpec.TargetTransform;
import io.stepcast.config.TopologySpec.TimeCalendar;
import io.stepcast.features.FeaturePipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spec fields of several targets and horizons and of the series' calendar. */
class HorizonsSpecTest {
  private static final String BASE =
      "name: demo\ntimestamp:\n  field: t\nfeatures:\n  - field: p\n";

  @TempDir Path dir;

  private Path write(String yaml) throws IOException {
    Path f = dir.resolve("spec.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private Path target(String more) throws IOException {
    return write(BASE + "target:\n  field: v\n" + more);
  }

  @Test
  void shouldLoadTheShippedMultiTargetSpecWithItsOutputsInOrder() {
    TopologySpec s = SpecFixtures.weatherHorizons();
    assertThat(s.target().horizons()).containsExactly(1, 6, 24);
    assertThat(s.target().also()).hasSize(1);
    assertThat(s.target().also().get(0).transformOrNone()).isEqualTo(TargetTransform.NONE);
    FeaturePipeline p = new FeaturePipeline(s);
    assertThat(p.outputNames())
        .containsExactly(
            "temperature@1", "temperature@6", "temperature@24", "wind@1", "wind@6", "wind@24");
    assertThat(p.columns()).startsWith("temperature:difference", "pressure", "wind");
  }

  @Test
  void shouldDefaultToOneTargetAtTheNextEventOnAContinuousCalendar() throws IOException {
    TopologySpec s = SpecLoader.load(target(""), Map.of());
    assertThat(s.target().horizons()).containsExactly(1);
    assertThat(s.target().also()).isEmpty();
    assertThat(s.timestamp().calendar()).isEqualTo(TimeCalendar.CONTINUOUS);
    assertThat(new FeaturePipeline(s).outputCount()).isEqualTo(1);
  }

  @Test
  void shouldTakeHorizonsTargetsAndCalendarFromTheEnvironment() throws IOException {
    TopologySpec s =
        SpecLoader.load(
            target(""),
            Map.of(
                "STEPCAST_TARGET_HORIZONS", "[1, 5, 20]",
                "STEPCAST_TARGET_ALSO", "[{field: w, transform: log_return, min: 0}]",
                "STEPCAST_TIMESTAMP_CALENDAR", "business_days"));
    assertThat(s.target().horizons()).containsExactly(1, 5, 20);
    assertThat(s.target().also().get(0).transform()).isEqualTo(TargetTransform.LOG_RETURN);
    assertThat(s.timestamp().calendar()).isEqualTo(TimeCalendar.BUSINESS_DAYS);
  }

  @Test
  void shouldRefuseHorizonsThatDoNotAscendFromOneInOneLine() throws IOException {
    Path noOne = target("  horizons: [6, 24]\n");
    assertOneLine(() -> SpecLoader.load(noOne, Map.of()), "target.horizons", "starts with 6");
    Path down = target("  horizons: [1, 24, 6]\n");
    assertOneLine(
        () -> SpecLoader.load(down, Map.of()), "target.horizons", "not strictly ascending");
    Path far = target("  horizons: [1, 5000]\n");
    assertOneLine(() -> SpecLoader.load(far, Map.of()), "target.horizons", "more than 1000");
    Path empty = target("  horizons: []\n");
    assertOneLine(() -> SpecLoader.load(empty, Map.of()), "target.horizons", "is empty");
    Path text = target("  horizons: [1, soon]\n");
    assertOneLine(() -> SpecLoader.load(text, Map.of()), "target.horizons");
    assertOneLine(
        () -> SpecLoader.load(target(""), Map.of("STEPCAST_TARGET_HORIZONS", "[2]")),
        "STEPCAST_TARGET_HORIZONS",
        "target.horizons");
  }

  @Test
  void shouldRefuseAFurtherTargetThatRepeatsTheTargetAFeatureOrItself() throws IOException {
    Path same = target("  also:\n    - field: v\n");
    assertOneLine(() -> SpecLoader.load(same, Map.of()), "target.also[0].field", "'v'");
    Path twice = target("  also:\n    - field: w\n    - field: w\n");
    assertOneLine(() -> SpecLoader.load(twice, Map.of()), "target.also[1].field");
    Path feature = target("  also:\n    - field: p\n");
    assertOneLine(
        () -> SpecLoader.load(feature, Map.of()),
        "features[0].field",
        "is a target (target.also)",
        "remove this feature");
    Path nameless = target("  also:\n    - transform: none\n");
    assertOneLine(() -> SpecLoader.load(nameless, Map.of()), "target.also[0].field", "missing");
    Path range = target("  also:\n    - field: w\n      min: 5\n      max: 1\n");
    assertOneLine(() -> SpecLoader.load(range, Map.of()), "target.also[0].min");
    Path transform = target("  also:\n    - field: w\n      transform: diff\n");
    assertOneLine(() -> SpecLoader.load(transform, Map.of()), "'diff' is not valid", "difference");
    Path typo = target("  also:\n    - field: w\n      transfrom: none\n");
    assertOneLine(() -> SpecLoader.load(typo, Map.of()), "transfrom");
  }

  @Test
  void shouldRefuseMoreOutputsThanTheLimit() throws IOException {
    String horizons =
        IntStream.rangeClosed(1, 200).mapToObj(Integer::toString).collect(Collectors.joining(", "));
    Path many = target("  also:\n    - field: w\n  horizons: [" + horizons + "]\n");
    assertOneLine(() -> SpecLoader.load(many, Map.of()), "400 outputs", "more than 256");
  }

  @Test
  void shouldRefuseAnUnknownCalendar() throws IOException {
    Path f =
        write("name: demo\ntimestamp:\n  field: t\n  calendar: weekdays\ntarget:\n  field: v\n");
    assertOneLine(
        () -> SpecLoader.load(f, Map.of()), "timestamp.calendar", "continuous, business_days");
  }
}
