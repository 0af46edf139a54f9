package io.stepcast.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Reads a topology spec: the YAML file over the built-in defaults, then environment overrides, then
 * validation, all from the declarations in {@link SpecSettings}. Every error is one line that names
 * the file (or environment variable), the field and the fix, and comes before any Kafka client
 * starts.
 *
 * <p>Any field can be overridden by an environment variable named {@code STEPCAST_} followed by its
 * path in upper snake case: {@code topics.deadLetter} is {@code STEPCAST_TOPICS_DEAD_LETTER},
 * {@code features} (a list) is {@code STEPCAST_FEATURES='[{field: pressure}]'}.
 */
public final class SpecLoader {
  /** Environment variable prefix for spec overrides. */
  public static final String ENV_PREFIX = SpecSettings.ENV_PREFIX;

  /** A spec is a few kilobytes; anything this large is the wrong file. */
  static final long MAX_FILE_BYTES = 1 << 20;

  /** Specs are three levels deep; this bounds hostile or broken nesting. */
  static final int MAX_DEPTH = 64;

  private static final ObjectMapper YAML =
      JsonMapper.builder(
              YAMLFactory.builder()
                  .loaderOptions(loaderOptions())
                  .streamReadConstraints(
                      StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
                  .build())
          .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .build();

  private SpecLoader() {}

  private static LoaderOptions loaderOptions() {
    LoaderOptions o = new LoaderOptions();
    o.setNestingDepthLimit(MAX_DEPTH);
    o.setMaxAliasesForCollections(20);
    o.setAllowDuplicateKeys(false);
    return o;
  }

  /** Loads {@code file} with the process environment as overrides. */
  public static TopologySpec load(Path file) {
    return load(file, System.getenv(), Set.of());
  }

  /** Loads {@code file} with the given environment as overrides (tests pass their own). */
  public static TopologySpec load(Path file, Map<String, String> env) {
    return load(file, env, Set.of());
  }

  /**
   * Loads {@code file} with the given environment as overrides.
   *
   * @param alsoKnown {@code STEPCAST_*} variables read elsewhere (command-line options), which are
   *     therefore not misspelt settings
   */
  public static TopologySpec load(Path file, Map<String, String> env, Set<String> alsoKnown) {
    EnvOverrides.checkNames(env, alsoKnown);
    String source = file.toString();
    JsonNode user = parse(source, read(file));
    if (user == null || !user.isObject()) {
      throw new ConfigException(
          source,
          "is empty or not a YAML mapping",
          "write the spec as a YAML mapping, e.g. topologies/weather.yaml");
    }
    return fromTree(source, (ObjectNode) user, env);
  }

  private static String read(Path file) {
    String source = file.toString();
    try {
      if (Files.isDirectory(file)) {
        String yamls;
        try (Stream<Path> list = Files.list(file)) {
          yamls =
              list.map(p -> p.getFileName().toString())
                  .filter(n -> n.endsWith(".yaml") || n.endsWith(".yml"))
                  .sorted()
                  .limit(5)
                  .collect(Collectors.joining(", "));
        }
        throw new ConfigException(
            source,
            "is a directory, not a spec file",
            "pass the YAML file itself"
                + (yamls.isEmpty() ? ", e.g. topologies/weather.yaml" : ", one of: " + yamls));
      }
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new ConfigException(
            source,
            "is " + Files.size(file) + " bytes, too large for a topology spec",
            "pass the spec file (a few kilobytes of YAML), e.g. topologies/weather.yaml");
      }
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(
          source,
          "does not exist",
          "pass an existing spec with --topology (STEPCAST_TOPOLOGY), e.g. topologies/weather.yaml");
    } catch (AccessDeniedException e) {
      throw new ConfigException(
          source, "cannot be read (permission denied)", "make it readable by this user");
    } catch (CharacterCodingException e) {
      throw new ConfigException(source, "is not UTF-8 text", "save the spec as UTF-8 YAML");
    } catch (IOException e) {
      throw new ConfigException(
          source, "cannot be read: " + e.getMessage(), "pass a readable YAML spec file");
    }
  }

  private static JsonNode parse(String source, String text) {
    try {
      return YAML.readTree(text);
    } catch (StreamConstraintsException e) {
      throw new ConfigException(
          source,
          "nested deeper than " + MAX_DEPTH + " levels",
          "a spec is a mapping of sections, a few levels deep; check the indentation");
    } catch (JsonProcessingException e) {
      throw new ConfigException(
          source,
          "not valid YAML" + at(e.getLocation()) + ": " + firstLine(e.getOriginalMessage()),
          "correct the YAML syntax");
    } catch (RuntimeException e) {
      // SnakeYAML's own limits (nesting, aliases) surface as its unchecked exceptions.
      throw new ConfigException(
          source,
          "not a usable YAML document: " + firstLine(String.valueOf(e.getMessage())),
          "correct the YAML; a spec is a plain mapping without deep nesting or many aliases");
    }
  }

  private static String at(JsonLocation loc) {
    return loc == null || loc.getLineNr() < 1 ? "" : " at line " + loc.getLineNr();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    String line = s.strip().lines().findFirst().orElse("");
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }

  /** Builds a spec from an already parsed tree; {@code source} names it in errors. */
  static TopologySpec fromTree(String source, ObjectNode user, Map<String, String> env) {
    Map<String, String> fromEnv = new LinkedHashMap<>();
    ObjectNode tree = user.deepCopy();
    EnvOverrides.apply(YAML, tree, env, fromEnv);
    rejectUnknownFields(source, fromEnv, tree, TopologySpec.class, "");
    JsonNode nameNode = tree.get("name");
    String name = nameNode == null || nameNode.isNull() ? null : nameNode.asText();
    Setting nameSetting = SpecSettings.byPath("name").orElseThrow();
    Validator.Problem bad = name == null ? null : nameSetting.validator().check(name);
    if (name == null || bad != null) {
      throw SpecValidation.error(
          source,
          fromEnv,
          "name",
          name == null ? "is missing" : "'" + name + "' is not a valid pipeline name",
          "set name to lowercase letters, digits and dashes, e.g. name: weather");
    }
    ObjectNode merged = defaults(name);
    merge(merged, tree);
    TopologySpec spec = bind(source, fromEnv, merged);
    SpecValidation.validate(source, fromEnv, spec);
    return spec;
  }

  private static TopologySpec bind(String source, Map<String, String> fromEnv, ObjectNode merged) {
    try {
      return YAML.treeToValue(merged, TopologySpec.class);
    } catch (UnrecognizedPropertyException e) {
      // Inside list items (features); sections were checked against the declaration before.
      List<String> known = e.getKnownPropertyIds().stream().map(Object::toString).sorted().toList();
      throw SpecValidation.error(
          source,
          fromEnv,
          path(e),
          "unknown field '" + e.getPropertyName() + "'",
          Names.nearest(e.getPropertyName(), known)
              .map(n -> "did you mean '" + n + "'? Valid here: " + known)
              .orElse("remove it; valid here: " + known));
    } catch (InvalidFormatException e) {
      Class<?> type = e.getTargetType();
      String allowed =
          type != null && type.isEnum()
              ? "use one of "
                  + Arrays.stream(type.getEnumConstants())
                      .map(c -> c.toString().toLowerCase(Locale.ROOT))
                      .collect(Collectors.joining(", "))
              : "give a value of type " + (type == null ? "?" : type.getSimpleName());
      throw SpecValidation.error(
          source, fromEnv, path(e), "'" + e.getValue() + "' is not valid", allowed);
    } catch (JsonMappingException e) {
      String path = path(e);
      String expected =
          SpecSettings.byPath(path.replaceAll("\\[\\d+]$", ""))
              .map(s -> "give a " + s.typeText())
              .orElse("check the field against the README's Configuration table");
      throw SpecValidation.error(
          source,
          fromEnv,
          path,
          "has the wrong type (" + firstLine(e.getOriginalMessage()) + ")",
          expected);
    } catch (JsonProcessingException e) {
      throw new ConfigException(source, firstLine(e.getOriginalMessage()), "correct the spec");
    }
  }

  /**
   * Fails on a key that is no section or setting, naming the nearest valid one (a typo in a section
   * name would otherwise also be reported only as "unknown").
   */
  private static void rejectUnknownFields(
      String source, Map<String, String> fromEnv, ObjectNode node, Class<?> type, String prefix) {
    Map<String, RecordComponent> components = new LinkedHashMap<>();
    for (RecordComponent c : type.getRecordComponents()) {
      components.put(c.getName(), c);
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = e.getKey();
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      RecordComponent c = components.get(key);
      if (c == null) {
        List<String> valid = List.copyOf(components.keySet());
        String where = prefix.isEmpty() ? "at the top level" : "in " + prefix;
        throw SpecValidation.error(
            source,
            fromEnv,
            path,
            "unknown field '" + key + "'",
            Names.nearest(key, valid)
                .map(n -> "did you mean '" + (prefix.isEmpty() ? n : prefix + "." + n) + "'?")
                .orElse("remove it; valid " + where + ": " + String.join(", ", valid)));
      }
      if (SpecSettings.isSection(c) && e.getValue().isObject()) {
        rejectUnknownFields(source, fromEnv, (ObjectNode) e.getValue(), c.getType(), path);
      }
    }
  }

  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.length() == 0 ? "(root)" : sb.toString();
  }

  /** The built-in defaults of pipeline {@code name}, from the declarations. */
  static ObjectNode defaults(String name) {
    ObjectNode d = JsonNodeFactory.instance.objectNode();
    for (RecordComponent c : TopologySpec.class.getRecordComponents()) {
      if (SpecSettings.isSection(c)) {
        d.putObject(c.getName());
      }
    }
    for (Setting s : SpecSettings.SPEC) {
      if (!s.hasDefault()) {
        continue;
      }
      String[] parts = s.path().split("\\.");
      ObjectNode node = d;
      for (int i = 0; i < parts.length - 1; i++) {
        node = (ObjectNode) node.get(parts[i]);
      }
      node.set(parts[parts.length - 1], YAML.valueToTree(s.defaultFor(name)));
    }
    return d;
  }

  private static void merge(ObjectNode base, JsonNode over) {
    for (Map.Entry<String, JsonNode> e : over.properties()) {
      JsonNode existing = base.get(e.getKey());
      JsonNode value = e.getValue();
      if (existing != null && existing.isObject() && value.isObject()) {
        merge((ObjectNode) existing, value);
      } else if (existing != null
          && existing.isContainerNode()
          && (value.isNull() || value.isTextual() && value.asText().isEmpty())) {
        // An empty section ("csv:") or list ("features:") means the defaults.
        continue;
      } else {
        base.set(e.getKey(), value);
      }
    }
  }

  /** Every overridable path of the spec with its environment variable name. */
  public static Map<String, String> envNames() {
    Map<String, String> out = new LinkedHashMap<>();
    SpecSettings.SPEC.forEach(s -> out.put(s.path(), s.envName()));
    return out;
  }
}
