package io.stepcast.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.PathType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The JSON Schema of the {@value ModelSpec#METADATA_KEY} metadata ({@value #RESOURCE} on the class
 * path), and the check of a spec against it.
 *
 * <p>Why besides {@link ModelSpec}: the loader reads specs leniently (a newer trainer's fields are
 * ignored, so older servers keep serving its models), while people who export a model themselves
 * need one strict, published description of every field. {@code stepcast model inspect} and the
 * tests check specs against the schema; the tests also fail when a model stepcast builds writes a
 * field the schema does not list, so a new spec field cannot ship undocumented.
 */
public final class SpecSchema {

  /** Class-path location of the schema. */
  public static final String RESOURCE = "/schema/stepcast-spec.schema.json";

  /** At most this many problems are named in {@link #check}'s one-line message. */
  static final int MAX_NAMED = 5;

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Schema SCHEMA = load();

  private SpecSchema() {}

  private static Schema load() {
    try (InputStream in = SpecSchema.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("the model spec schema " + RESOURCE + " is missing");
      }
      SchemaRegistry registry =
          SchemaRegistry.withDefaultDialect(
              SpecificationVersion.DRAFT_2020_12,
              b ->
                  b.schemaRegistryConfig(
                      SchemaRegistryConfig.builder()
                          .formatAssertionsEnabled(true)
                          .pathType(PathType.JSON_PATH)
                          .locale(Locale.ROOT)
                          .build()));
      return registry.getSchema(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the model spec schema " + RESOURCE, e);
    }
  }

  /** The schema document, as JSON (what {@code docs/MODEL-CONTRACT.md} publishes). */
  public static JsonNode document() {
    return SCHEMA.getSchemaNode();
  }

  /**
   * Every way {@code json} breaks the schema, one line each ({@code $.path: problem}), in document
   * order; empty when it conforms. Malformed JSON is one problem.
   */
  public static List<String> problems(String json) {
    JsonNode node;
    try {
      node = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      return List.of("$: malformed JSON: " + e.getOriginalMessage());
    }
    if (node == null || node.isMissingNode()) {
      return List.of("$: empty, expected a JSON object");
    }
    List<String> out = new ArrayList<>();
    for (Error e : SCHEMA.validate(node)) {
      out.add(e.getInstanceLocation() + ": " + e.getMessage());
    }
    return out;
  }

  /**
   * Checks {@code json} against the schema.
   *
   * @throws IllegalArgumentException with a one-line message naming the first {@value #MAX_NAMED}
   *     problems (and how many more there are) when it does not conform
   */
  public static void check(String json) {
    List<String> problems = problems(json);
    if (problems.isEmpty()) {
      return;
    }
    StringBuilder m =
        new StringBuilder("model spec does not follow the schema (docs/MODEL-CONTRACT.md): ");
    for (int i = 0; i < Math.min(MAX_NAMED, problems.size()); i++) {
      m.append(i == 0 ? "" : "; ").append(oneLine(problems.get(i)));
    }
    if (problems.size() > MAX_NAMED) {
      m.append("; and ").append(problems.size() - MAX_NAMED).append(" more");
    }
    throw new IllegalArgumentException(m.toString());
  }

  private static String oneLine(String s) {
    return s.replaceAll("\\s+", " ").strip();
  }
}
