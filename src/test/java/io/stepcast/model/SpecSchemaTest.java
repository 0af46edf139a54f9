package io.stepcast.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.model.ModelSpec.GoldenVectors;
import io.stepcast.model.ModelSpec.StateSpec;
import io.stepcast.train.PipelineModels;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The JSON Schema of the model spec against every spec stepcast writes, against the {@link
 * ModelSpec} record (so a field added there without the schema fails here), and against hand-broken
 * specs, each refused with one line that names the field.
 */
class SpecSchemaTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A spec with every optional field set, as the trainer writes it. */
  static ModelSpec complete() {
    return ModelSpec.builder()
        .version("weather-20261130145500")
        .pipeline("weather")
        .network(CellType.LSTM, 2, 4)
        .features(List.of("temperature:difference", "pressure", "hour_of_day:sin"))
        .target("temperature", "difference")
        .states(List.of(new StateSpec("h", 8), new StateSpec("c", 8)))
        .burnIn(24)
        .training("val_mae", 0.1636)
        .training("persistence_mae", 0.3782)
        .golden(new GoldenVectors(new float[][] {{1f, -2.5f, 1e-7f}}, new float[][] {{0.25f}}))
        .createdAt("2026-11-30T14:55:00.123456Z")
        .build();
  }

  private static String specOf(byte[] onnx) throws ModelException {
    return OnnxMetadata.read(onnx).get(ModelSpec.METADATA_KEY);
  }

  @Test
  void shouldAcceptTheSpecOfTheDemoModelOfEveryShippedTopology() throws Exception {
    List<Path> topologies;
    try (Stream<Path> files = Files.list(Path.of("topologies"))) {
      topologies = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(topologies).isNotEmpty();
    for (Path file : topologies) {
      TopologySpec spec = SpecLoader.load(file, Map.of());
      String json = specOf(PipelineModels.fixed(spec, 42));

      assertThat(SpecSchema.problems(json)).as(file.toString()).isEmpty();
    }
  }

  @Test
  void shouldAcceptTheSpecOfEveryCellAndLayerCountTheBuilderWrites() throws Exception {
    for (CellType cell : CellType.values()) {
      for (int layers = 1; layers <= 3; layers++) {
        ModelSpec base = complete().toBuilder().network(cell, layers, 4).golden(null).build();
        String json = specOf(DemoModels.persistenceLike(cell, 3, 4, layers, 7, base));

        assertThat(SpecSchema.problems(json)).as(cell + " x" + layers).isEmpty();
        int stateSize = layers * 4;
        assertThat(MAPPER.readTree(json).get("states"))
            .as("every state tensor has layers * hiddenSize columns")
            .allSatisfy(s -> assertThat(s.get("size").asInt()).isEqualTo(stateSize));
      }
    }
  }

  @Test
  void shouldAcceptACompleteSpecAndTheMinimalOneTheLoaderFillsDefaultsFor() throws Exception {
    assertThat(SpecSchema.problems(complete().toJson())).isEmpty();

    ObjectNode minimal = (ObjectNode) MAPPER.readTree(complete().toJson());
    minimal.remove(List.of("targetTransform", "states", "burnIn", "training", "createdAt"));
    assertThat(SpecSchema.problems(minimal.toString())).isEmpty();
    assertThat(ModelSpec.fromJson(minimal.toString()).states())
        .containsExactly(new StateSpec("h", 8), new StateSpec("c", 8));
  }

  /**
   * Every field the spec record serialises is described by the schema, and the schema describes no
   * field the record lacks. Someone adding a spec field (prediction intervals, horizons, a seasonal
   * lag) lands here until the schema and docs/MODEL-CONTRACT.md describe it.
   */
  @Test
  void shouldDescribeExactlyTheFieldsOfTheSpecRecords() {
    JsonNode schema = SpecSchema.document();

    assertThat(propertyNames(schema.get("properties")))
        .as(
            "properties of the schema vs components of ModelSpec: add a new spec field to "
                + SpecSchema.RESOURCE
                + " and docs/MODEL-CONTRACT.md")
        .isEqualTo(componentNames(ModelSpec.class));
    assertThat(propertyNames(schema.at("/$defs/state/properties")))
        .isEqualTo(componentNames(StateSpec.class));
    assertThat(propertyNames(schema.at("/properties/golden/properties")))
        .isEqualTo(componentNames(GoldenVectors.class));
    assertThat(propertyNames(schema.at("/$defs/target/properties")))
        .isEqualTo(componentNames(ModelSpec.TargetSpec.class));
    assertThat(schema.get("additionalProperties").asBoolean(true)).isFalse();
  }

  @Test
  void shouldGiveEveryFieldADescription() {
    JsonNode properties = SpecSchema.document().get("properties");
    for (Map.Entry<String, JsonNode> e : properties.properties()) {
      assertThat(e.getValue().path("description").asText()).as(e.getKey()).isNotBlank();
    }
  }

  static Stream<Arguments> brokenSpecs() {
    return Stream.of(
        broken("missing cell", s -> s.remove("cell"), "$", "cell"),
        broken("unknown cell", s -> s.put("cell", "transformer"), "$.cell", "lstm"),
        broken("misspelt field", s -> s.put("hiddenSise", 32), "$", "hiddenSise"),
        broken("zero layers", s -> s.put("layers", 0), "$.layers", "1"),
        broken("fractional size", s -> s.put("hiddenSize", 4.5), "$.hiddenSize", "integer"),
        broken("size as text", s -> s.put("inputSize", "3"), "$.inputSize", "integer"),
        broken("blank version", s -> s.put("version", "  "), "$.version", ""),
        broken("unknown transform", s -> s.put("targetTransform", "log"), "$.targetTransform", ""),
        broken("empty feature name", s -> features(s).set(1, ""), "$.features[1]", ""),
        broken(
            "reserved state name",
            s -> ((ObjectNode) s.get("states").get(0)).put("name", "x"),
            "$.states[0].name",
            ""),
        broken(
            "state without size",
            s -> ((ObjectNode) s.get("states").get(1)).remove("size"),
            "$.states[1]",
            "size"),
        broken(
            "golden without y", s -> ((ObjectNode) s.get("golden")).remove("y"), "$.golden", "y"),
        broken(
            "golden value as text",
            s -> ((ArrayNode) s.get("golden").get("x").get(0)).set(2, "NaN"),
            "$.golden.x[0][2]",
            "number"),
        broken("no golden", s -> s.remove("golden"), "$", "golden"),
        broken(
            "training figure as text",
            s -> ((ObjectNode) s.get("training")).put("val_mae", "low"),
            "$.training.val_mae",
            "number"),
        broken(
            "creation time not RFC 3339", s -> s.put("createdAt", "yesterday"), "$.createdAt", ""),
        broken("negative burn-in", s -> s.put("burnIn", -1), "$.burnIn", ""),
        broken("spec version zero", s -> s.put("specVersion", 0), "$.specVersion", ""));
  }

  private static ArrayNode features(ObjectNode s) {
    return (ArrayNode) s.get("features");
  }

  private static Arguments broken(
      String name, Consumer<ObjectNode> breakIt, String path, String mentions) {
    return Arguments.of(name, breakIt, path, mentions);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenSpecs")
  void shouldRefuseAHandBrokenSpecWithOneLineNamingTheField(
      String name, Consumer<ObjectNode> breakIt, String path, String mentions) throws Exception {
    ObjectNode spec = (ObjectNode) MAPPER.readTree(complete().toJson());
    breakIt.accept(spec);

    List<String> problems = SpecSchema.problems(spec.toString());

    assertThat(problems).as(name).hasSize(1);
    assertThat(problems.get(0)).startsWith(path + ": ").contains(mentions);
    assertThatThrownBy(() -> SpecSchema.check(spec.toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("model spec does not follow the schema")
        .hasMessageContaining(problems.get(0))
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void shouldNameTheFirstProblemsAndCountTheRestOnOneLine() throws Exception {
    ObjectNode spec = (ObjectNode) MAPPER.readTree(complete().toJson());
    for (String f : List.of("layers", "hiddenSize", "inputSize", "outputSize", "burnIn", "x")) {
      spec.put(f, -5);
    }

    assertThatThrownBy(() -> SpecSchema.check(spec.toString()))
        .hasMessageContaining("$.layers")
        .hasMessageEndingWith("and " + (6 - SpecSchema.MAX_NAMED) + " more")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void shouldRefuseMalformedJsonAsOneProblem() {
    assertThat(SpecSchema.problems("{\"version\": "))
        .singleElement()
        .asString()
        .startsWith("$: malformed JSON");
    assertThat(SpecSchema.problems("")).singleElement().asString().startsWith("$: ");
    assertThat(SpecSchema.problems("[1, 2]")).singleElement().asString().startsWith("$: ");
  }

  @Test
  void shouldBeStricterThanTheLoaderAboutUnknownFields() throws Exception {
    // The loader ignores a newer trainer's fields so older servers keep serving its models; the
    // schema, the contract for people writing specs by hand, names them.
    ObjectNode spec = (ObjectNode) MAPPER.readTree(complete().toJson());
    spec.put("quantiles", "0.1,0.9");

    assertThat(ModelSpec.fromJson(spec.toString())).isEqualTo(complete());
    assertThat(SpecSchema.problems(spec.toString()))
        .singleElement()
        .asString()
        .contains("quantiles");
  }

  private static TreeSet<String> propertyNames(JsonNode properties) {
    TreeSet<String> out = new TreeSet<>();
    properties.fieldNames().forEachRemaining(out::add);
    return out;
  }

  private static TreeSet<String> componentNames(Class<? extends Record> type) {
    List<String> names = new ArrayList<>();
    for (RecordComponent c : type.getRecordComponents()) {
      names.add(c.getName());
    }
    return new TreeSet<>(names);
  }
}
