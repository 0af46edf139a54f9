package io.stepcast.config;

import static io.stepcast.config.SpecFixtures.assertOneLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.config.TopologySpec.MissingPolicy;
import io.stepcast.config.TopologySpec.SeriesIdSource;
import io.stepcast.config.TopologySpec.TargetTransform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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
  void shouldRejectALagOfOneOrBeyondTheKeptRowsOrMixedWithAnotherKind() throws IOException {
    String features = "model:\n  ringBuffer: 24\nfeatures:\n";
    assertThatThrownBy(() -> SpecLoader.load(write(MINIMAL + features + "  - lag: 1\n"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("features[0].lag")
        .hasMessageContaining("2..4096");
    assertThatThrownBy(() -> SpecLoader.load(write(MINIMAL + features + "  - lag: 48\n"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("model.ringBuffer")
        .hasMessageContaining("set model.ringBuffer: 48 or more");
    assertThatThrownBy(
            () ->
                SpecLoader.load(write(MINIMAL + features + "  - lag: 24\n  - lag: 24\n"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("features[1]")
        .hasMessageContaining("repeats");
    assertThatThrownBy(
            () ->
                SpecLoader.load(
                    write(MINIMAL + features + "  - lag: 24\n    field: a\n"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("features[0]")
        .hasMessageContaining("lag");
    assertThatThrownBy(
            () ->
                SpecLoader.load(write(MINIMAL + features + "  - lag: 24\n    min: 0\n"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("min or max");
    assertThatThrownBy(
            () -> SpecLoader.load(write(MINIMAL + features + "  - lag: daily\n"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("features[0].lag");
    // The environment reaches it like any field.
    TopologySpec s =
        SpecLoader.load(
            write(MINIMAL),
            Map.of("STEPCAST_FEATURES", "[{lag: 24}]", "STEPCAST_MODEL_RING_BUFFER", "24"));
    assertThat(s.features()).extracting(TopologySpec.Feature::lag).containsExactly(24);
  }

  @Test
  void shouldTakeADifferencedTargetsLevelAsAFeatureButRefuseAnUntransformedTargetTwice()
      throws IOException {
    String differenced = MINIMAL + "  transform: difference\nfeatures:\n  - field: v\n";
    assertThat(SpecLoader.load(write(differenced), Map.of()).features())
        .extracting(TopologySpec.Feature::field)
        .containsExactly("v");
    assertThatThrownBy(
            () -> SpecLoader.load(write(MINIMAL + "features:\n  - field: v\n"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("features[0].field")
        .hasMessageContaining("is the target");
  }

  @Test
  void shouldRefuseAnEnsembleWiderThanOneNetworkMayBe() throws IOException {
    String wide = MINIMAL + "training:\n  hiddenSize: 1024\n  ensemble: 5\n";

    assertThatThrownBy(() -> SpecLoader.load(write(wide), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("training.ensemble")
        .hasMessageContaining("5120 units")
        .hasMessageContaining("at most 4096");
    assertThat(
            SpecLoader.load(
                    write(MINIMAL + "training:\n  hiddenSize: 1024\n  ensemble: 4\n"), Map.of())
                .training()
                .ensemble())
        .isEqualTo(4);
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

  // ---- one declaration: defaults, names and limits come from SpecSettings ----

  @Test
  void shouldFillEveryDeclaredDefault() throws IOException {
    TopologySpec s = SpecLoader.load(write(MINIMAL), Map.of());
    for (Setting setting : SpecSettings.SPEC) {
      if (setting.hasDefault()) {
        Object expected = setting.defaultFor("demo");
        Object actual = setting.valueIn(s);
        assertThat(actual instanceof Enum<?> e ? e.name().toLowerCase(Locale.ROOT) : actual)
            .as(setting.path())
            .isEqualTo(expected);
      }
    }
  }

  @Test
  void shouldTakeATextVariableAsItIsNotAsYaml() throws IOException {
    TopologySpec s =
        SpecLoader.load(
            write(MINIMAL), Map.of("STEPCAST_CSV_KEY", "007", "STEPCAST_TARGET_FIELD", "yes"));
    assertThat(s.csv().key()).isEqualTo("007");
    assertThat(s.target().field()).isEqualTo("yes");
  }

  @Test
  void shouldTreatAnEmptySectionOrListAsTheDefaults() throws IOException {
    TopologySpec s = SpecLoader.load(write(MINIMAL + "csv:\nfeatures:\n"), Map.of());
    assertThat(s.features()).isEmpty();
    assertThat(s.csv()).isNotNull();
  }

  // ---- operator mistakes: one line naming the source, the field and the fix ----

  @Test
  void shouldNameTheNearestVariableForAMisspeltOverride() throws IOException {
    Path f = write(MINIMAL);
    assertOneLine(
        () -> SpecLoader.load(f, Map.of("STEPCAST_TRAGET_FIELD", "temperature")),
        "environment variable STEPCAST_TRAGET_FIELD",
        "rename it to STEPCAST_TARGET_FIELD (target.field)");
    assertOneLine(
        () -> SpecLoader.load(f, Map.of("STEPCAST_TOPICS_DEADLETTER", "dlq")),
        "environment variable STEPCAST_TOPICS_DEADLETTER",
        "rename it to STEPCAST_TOPICS_DEAD_LETTER (topics.deadLetter)");
    assertOneLine(
        () -> SpecLoader.load(f, Map.of("STEPCAST_BOOTSTRAP_SERVER", "kafka:9092")),
        "STEPCAST_BOOTSTRAP_SERVER",
        "rename it to STEPCAST_BOOTSTRAP_SERVERS");
    assertOneLine(
        () -> SpecLoader.load(f, Map.of("STEPCAST_HTTP_PROT", "8080")),
        "STEPCAST_HTTP_PROT",
        "rename it to STEPCAST_HTTP_PORT");
    assertOneLine(
        () -> SpecLoader.load(f, Map.of("STEPCAST_WHATEVER_ELSE_ENTIRELY", "1")),
        "environment variable STEPCAST_WHATEVER_ELSE_ENTIRELY",
        "unset it");
  }

  @Test
  void shouldAcceptEveryVariableStepcastReadsBesidesSpecFields() throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put("STEPCAST_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT");
    env.put("STEPCAST_KAFKA_GROUP_INSTANCE_ID", "pod-0");
    env.put("STEPCAST_TORCH_THREADS", "2");
    env.put("STEPCAST_LOG_LEVEL", "DEBUG");
    env.put("STEPCAST_TOPOLOGY", "x.yaml");
    env.put("STEPCAST_BOOTSTRAP_SERVERS", "kafka:9092");
    env.put("STEPCAST_STATE_DIR", "/var/lib/stepcast");
    env.put("STEPCAST_HTTP_PORT", "8080");
    env.put("STEPCAST_MODEL_DIR", "/models");
    env.put("STEPCAST_APPLICATION_SERVER", "pod-0:8080");
    env.put("STEPCAST_SOME_NEW_OPTION", "read by a command-line option");
    // What Kubernetes sets for a Service named stepcast when service links are on.
    env.put("STEPCAST_SERVICE_HOST", "10.0.0.7");
    env.put("STEPCAST_SERVICE_PORT_HTTP", "8080");
    env.put("STEPCAST_PORT", "tcp://10.0.0.7:8080");
    env.put("STEPCAST_PORT_8080_TCP_ADDR", "10.0.0.7");
    env.put("STEPCAST_HEADLESS_SERVICE_HOST", "10.0.0.8");
    env.put("OTHER_VARIABLE", "ignored");
    TopologySpec s = SpecLoader.load(write(MINIMAL), env, Set.of("STEPCAST_SOME_NEW_OPTION"));
    assertThat(s.name()).isEqualTo("demo");
  }

  @Test
  void shouldRejectADirectoryGivenAsTheSpecNamingItsYamlFiles() throws IOException {
    Files.writeString(dir.resolve("weather.yaml"), MINIMAL);
    assertOneLine(
        () -> SpecLoader.load(dir, Map.of()),
        dir + ": is a directory, not a spec file",
        "one of: weather.yaml");
  }

  @Test
  void shouldRejectDeeplyNestedYamlInOneLine() throws IOException {
    StringBuilder block = new StringBuilder("name: demo\n");
    for (int i = 0; i < 200; i++) {
      block.append(" ".repeat(i)).append("a").append(i).append(":\n");
    }
    block.append(" ".repeat(200)).append("b: 1\n");
    for (String yaml :
        List.of(
            block.toString(),
            "name:\n" + "- ".repeat(5000) + "1\n",
            "name: " + "[".repeat(5000) + "]".repeat(5000) + "\n",
            "name: " + "{a: ".repeat(5000) + "1" + "}".repeat(5000) + "\n")) {
      Path f = write(yaml);
      assertOneLine(() -> SpecLoader.load(f, Map.of()), f.toString(), "nested deeper than 64");
    }
  }

  @Test
  void shouldRejectAnOversizedFile() throws IOException {
    Path f = write(MINIMAL + "# " + "x".repeat(2 << 20) + "\n");
    assertOneLine(() -> SpecLoader.load(f, Map.of()), "too large for a topology spec", "Fix: ");
  }

  @Test
  void shouldRejectANegativeCudaDevice() throws IOException {
    Path f = write(MINIMAL + "execution:\n  cudaDeviceId: -7\n");
    assertOneLine(
        () -> SpecLoader.load(f, Map.of()),
        f + ": field 'execution.cudaDeviceId': is -7, must be from 0 to 255",
        "e.g. 0");
  }

  @Test
  void shouldRejectAbsurdThreadCountsFromTheFileOrTheEnvironment() throws IOException {
    Path f = write(MINIMAL + "processing:\n  numStreamThreads: 100000\n");
    assertOneLine(
        () -> SpecLoader.load(f, Map.of()),
        "field 'processing.numStreamThreads': is 100000, must be from 1 to 256",
        "Fix: ");
    assertOneLine(
        () -> SpecLoader.load(write(MINIMAL), Map.of("STEPCAST_EXECUTION_INTRA_OP_THREADS", "0")),
        "(overridden by environment variable STEPCAST_EXECUTION_INTRA_OP_THREADS)",
        "field 'execution.intraOpThreads': is 0");
    assertOneLine(
        () ->
            SpecLoader.load(
                write(MINIMAL), Map.of("STEPCAST_PROCESSING_NUM_STREAM_THREADS", "99999999999")),
        "STEPCAST_PROCESSING_NUM_STREAM_THREADS",
        "processing.numStreamThreads");
  }

  @Test
  void shouldNameTheNearestFieldForAnUnknownOne() throws IOException {
    Path top = write(MINIMAL + "procesing:\n  numStreamThreads: 2\n");
    assertOneLine(
        () -> SpecLoader.load(top, Map.of()),
        "field 'procesing': unknown field 'procesing'",
        "did you mean 'processing'?");
    Path nested = write(MINIMAL + "  trasnform: none\n");
    assertOneLine(
        () -> SpecLoader.load(nested, Map.of()),
        "field 'target.trasnform'",
        "did you mean 'target.transform'?");
    Path inList = write(MINIMAL + "features:\n  - feild: pressure\n");
    assertOneLine(
        () -> SpecLoader.load(inList, Map.of()),
        "field 'features[0].feild'",
        "did you mean 'field'?");
    Path far = write(MINIMAL + "zzzzzzzz: 1\n");
    assertOneLine(
        () -> SpecLoader.load(far, Map.of()), "unknown field 'zzzzzzzz'", "valid at the top level");
  }

  @Test
  void shouldNameTheTypeForAValueOfTheWrongType() throws IOException {
    Path f = write(MINIMAL + "topics:\n  partitions: many\n");
    assertOneLine(() -> SpecLoader.load(f, Map.of()), "topics.partitions", "Fix: ");
  }
}
