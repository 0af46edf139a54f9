package io.stepcast.config;

import com.fasterxml.jackson.core.JsonProcessingException;
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
import io.stepcast.config.TopologySpec.Feature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads a topology spec: the YAML file over built-in defaults, then environment overrides, then
 * validation. Every error names the file, the field and the fix.
 *
 * <p>Any field can be overridden by an environment variable named {@code STEPCAST_} followed by its
 * path in upper snake case: {@code topics.deadLetter} is {@code STEPCAST_TOPICS_DEAD_LETTER},
 * {@code features} (a list) is {@code STEPCAST_FEATURES='[{field: pressure}]'}. Values are read as
 * YAML, so numbers, booleans and lists keep their types.
 */
public final class SpecLoader {
  /** Environment variable prefix for spec overrides. */
  public static final String ENV_PREFIX = "STEPCAST_";

  private static final ObjectMapper YAML =
      JsonMapper.builder(new YAMLFactory())
          .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .build();

  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  private SpecLoader() {}

  /** Loads {@code file} with the process environment as overrides. */
  public static TopologySpec load(Path file) {
    return load(file, System.getenv());
  }

  /** Loads {@code file} with the given environment as overrides (tests pass their own). */
  public static TopologySpec load(Path file, Map<String, String> env) {
    String source = file.toString();
    JsonNode user;
    try {
      user = YAML.readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new ConfigException(
          source,
          "(file)",
          "the file does not exist",
          "pass an existing spec, e.g. topologies/weather.yaml");
    } catch (JsonProcessingException e) {
      throw new ConfigException(
          source,
          "(file)",
          "not valid YAML at line " + e.getLocation().getLineNr() + ": " + e.getOriginalMessage(),
          "correct the YAML syntax");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + source, e);
    }
    if (user == null || !user.isObject()) {
      throw new ConfigException(
          source,
          "(file)",
          "the file is empty or not a mapping",
          "write the spec as a YAML mapping");
    }
    return fromTree(source, (ObjectNode) user, env);
  }

  /** Builds a spec from an already parsed tree; {@code source} names it in errors. */
  static TopologySpec fromTree(String source, ObjectNode user, Map<String, String> env) {
    Map<String, String> fromEnv = new LinkedHashMap<>();
    ObjectNode tree = user.deepCopy();
    applyEnv(source, tree, env, fromEnv);
    JsonNode nameNode = tree.get("name");
    String name = nameNode == null || nameNode.isNull() ? null : nameNode.asText();
    if (name == null || !NAME.matcher(name).matches()) {
      throw error(
          source,
          fromEnv,
          "name",
          name == null ? "is missing" : "'" + name + "' is not a valid pipeline name",
          "set name to lowercase letters, digits and dashes, e.g. name: weather");
    }
    ObjectNode merged = defaults(name);
    merge(merged, tree);
    TopologySpec spec;
    try {
      spec = YAML.treeToValue(merged, TopologySpec.class);
    } catch (UnrecognizedPropertyException e) {
      String path = path(e);
      throw error(
          source,
          fromEnv,
          path,
          "unknown field '" + e.getPropertyName() + "'",
          "remove it or use one of " + e.getKnownPropertyIds());
    } catch (InvalidFormatException e) {
      String path = path(e);
      Class<?> type = e.getTargetType();
      String allowed =
          type != null && type.isEnum()
              ? "use one of "
                  + Arrays.stream(type.getEnumConstants())
                      .map(c -> c.toString().toLowerCase(Locale.ROOT))
                      .collect(Collectors.joining(", "))
              : "give a value of type " + (type == null ? "?" : type.getSimpleName());
      throw error(source, fromEnv, path, "'" + e.getValue() + "' is not valid", allowed);
    } catch (JsonMappingException e) {
      throw error(
          source,
          fromEnv,
          path(e),
          "has the wrong type (" + e.getOriginalMessage() + ")",
          "check the field against topologies/README or an example spec");
    } catch (JsonProcessingException e) {
      throw new ConfigException(source, "(file)", e.getOriginalMessage(), "correct the spec");
    }
    validate(source, fromEnv, spec);
    return spec;
  }

  private static ConfigException error(
      String source, Map<String, String> fromEnv, String field, String problem, String fix) {
    String env = fromEnv.get(field);
    String where =
        env == null ? source : source + " (overridden by environment variable " + env + ")";
    return new ConfigException(where, field, problem, fix);
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

  private static ObjectNode defaults(String name) {
    try (InputStream in = SpecLoader.class.getResourceAsStream("spec-defaults.yaml")) {
      ObjectNode d = (ObjectNode) YAML.readTree(in);
      d.put("applicationId", "stepcast-" + name);
      ObjectNode topics = (ObjectNode) d.get("topics");
      topics.put("input", name + "-events");
      topics.put("output", name + "-forecasts");
      topics.put("deadLetter", name + "-dead-letters");
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read built-in spec defaults", e);
    }
  }

  private static void merge(ObjectNode base, JsonNode over) {
    for (Map.Entry<String, JsonNode> e : over.properties()) {
      JsonNode existing = base.get(e.getKey());
      if (existing != null && existing.isObject() && e.getValue().isObject()) {
        merge((ObjectNode) existing, e.getValue());
      } else {
        base.set(e.getKey(), e.getValue());
      }
    }
  }

  /** Every overridable path of the spec with its environment variable name. */
  public static Map<String, String> envNames() {
    Map<String, String> out = new LinkedHashMap<>();
    collect(TopologySpec.class, "", out);
    return out;
  }

  private static void collect(Class<?> type, String prefix, Map<String, String> out) {
    for (RecordComponent c : type.getRecordComponents()) {
      String path = prefix.isEmpty() ? c.getName() : prefix + "." + c.getName();
      if (c.getType().isRecord() && !(c.getGenericType() instanceof ParameterizedType)) {
        collect(c.getType(), path, out);
      } else {
        out.put(path, ENV_PREFIX + upperSnake(path));
      }
    }
  }

  static String upperSnake(String path) {
    StringBuilder sb = new StringBuilder();
    for (char ch : path.toCharArray()) {
      if (ch == '.') {
        sb.append('_');
      } else if (Character.isUpperCase(ch)) {
        sb.append('_').append(ch);
      } else {
        sb.append(Character.toUpperCase(ch));
      }
    }
    return sb.toString();
  }

  private static void applyEnv(
      String source, ObjectNode tree, Map<String, String> env, Map<String, String> fromEnv) {
    for (Map.Entry<String, String> p : envNames().entrySet()) {
      String value = env.get(p.getValue());
      if (value == null) {
        continue;
      }
      JsonNode parsed;
      try {
        parsed = value.isEmpty() ? JsonNodeFactory.instance.nullNode() : YAML.readTree(value);
      } catch (JsonProcessingException e) {
        throw new ConfigException(
            "environment variable " + p.getValue(),
            p.getKey(),
            "'" + value + "' is not a valid YAML value",
            "quote it or write it as YAML, e.g. [{field: pressure}] for a list");
      }
      String[] parts = p.getKey().split("\\.");
      ObjectNode node = tree;
      for (int i = 0; i < parts.length - 1; i++) {
        JsonNode child = node.get(parts[i]);
        if (child == null || !child.isObject()) {
          child = node.putObject(parts[i]);
        }
        node = (ObjectNode) child;
      }
      node.set(parts[parts.length - 1], parsed);
      fromEnv.put(p.getKey(), p.getValue());
    }
  }

  private static void validate(String src, Map<String, String> env, TopologySpec s) {
    var t = s.topics();
    requireTopic(src, env, "topics.input", t.input());
    requireTopic(src, env, "topics.output", t.output());
    requireTopic(src, env, "topics.deadLetter", t.deadLetter());
    requireTopic(src, env, "topics.model", t.model());
    Set<String> distinct = new HashSet<>(List.of(t.input(), t.output(), t.deadLetter(), t.model()));
    if (distinct.size() != 4) {
      throw error(
          src,
          env,
          "topics",
          "input, output, deadLetter and model name the same topic",
          "give each its own topic name");
    }
    if (t.partitions() < 1) {
      throw error(src, env, "topics.partitions", "must be at least 1", "set topics.partitions: 4");
    }
    if (t.replicationFactor() < 1) {
      throw error(
          src,
          env,
          "topics.replicationFactor",
          "must be at least 1",
          "set topics.replicationFactor to 3 on a production cluster, 1 on a single broker");
    }
    if (s.applicationId() == null || s.applicationId().isBlank()) {
      throw error(
          src, env, "applicationId", "is empty", "remove it (default stepcast-NAME) or set one");
    }
    if (s.seriesId().from() == null) {
      throw error(src, env, "seriesId.from", "is missing", "set seriesId.from: key or field");
    }
    if (s.seriesId().from() == TopologySpec.SeriesIdSource.FIELD && blank(s.seriesId().field())) {
      throw error(
          src,
          env,
          "seriesId.field",
          "is missing while seriesId.from is field",
          "name the JSON field that holds the series id, e.g. seriesId.field: symbol");
    }
    var ts = s.timestamp();
    if (blank(ts.field())) {
      throw error(
          src,
          env,
          "timestamp.field",
          "is missing",
          "name the event-time field, e.g. timestamp.field: date");
    }
    if (ts.format() == TopologySpec.TimestampFormat.PATTERN) {
      if (blank(ts.pattern())) {
        throw error(
            src,
            env,
            "timestamp.pattern",
            "is missing while timestamp.format is pattern",
            "give a java.time pattern, e.g. timestamp.pattern: 'MMM d yyyy'");
      }
      try {
        DateTimeFormatter.ofPattern(ts.pattern(), Locale.ROOT);
      } catch (IllegalArgumentException e) {
        throw error(
            src,
            env,
            "timestamp.pattern",
            "'" + ts.pattern() + "' is not a valid pattern: " + e.getMessage(),
            "use java.time.format.DateTimeFormatter pattern letters");
      }
    }
    try {
      ZoneId.of(ts.zone());
    } catch (RuntimeException e) {
      throw error(
          src,
          env,
          "timestamp.zone",
          "'" + ts.zone() + "' is not a time zone",
          "use e.g. UTC or America/Los_Angeles");
    }
    if (s.target() == null || blank(s.target().field())) {
      throw error(
          src,
          env,
          "target.field",
          "is missing",
          "name the numeric field to forecast, e.g. target.field: temperature");
    }
    if (s.target().transform() == null) {
      throw error(
          src, env, "target.transform", "is missing", "use one of none, difference, log_return");
    }
    if (s.target().season() != null && s.target().season() < 2) {
      throw error(
          src,
          env,
          "target.season",
          "must be at least 2 events",
          "set the season length in events, e.g. 24 for hourly data with a daily cycle, or remove it");
    }
    List<Feature> features = s.features() == null ? List.of() : s.features();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < features.size(); i++) {
      Feature f = features.get(i);
      String at = "features[" + i + "]";
      int kinds =
          (f.field() != null ? 1 : 0)
              + (f.calendar() != null ? 1 : 0)
              + (Boolean.TRUE.equals(f.timeSincePrevious()) ? 1 : 0);
      if (kinds != 1) {
        throw error(
            src,
            env,
            at,
            "must have exactly one of field, calendar, timeSincePrevious: true",
            "write e.g. '- field: pressure' or '- calendar: hour_of_day'");
      }
      String key =
          f.field() != null
              ? "field:" + f.field()
              : f.calendar() != null ? "calendar:" + f.calendar() : "dt";
      if (f.field() != null && f.field().equals(s.target().field())) {
        throw error(
            src,
            env,
            at + ".field",
            "'" + f.field() + "' is the target, which is always an input",
            "remove this feature");
      }
      if (!seen.add(key)) {
        throw error(src, env, at, "repeats an earlier feature", "remove the duplicate");
      }
    }
    var m = s.model();
    if (m.ringBuffer() < 0 || m.ringBuffer() > 4096) {
      throw error(
          src,
          env,
          "model.ringBuffer",
          "must be between 0 and 4096",
          "set the number of recent events kept per series for burn-in, e.g. 32");
    }
    if (m.pollIntervalMs() < 100) {
      throw error(src, env, "model.pollIntervalMs", "must be at least 100", "set e.g. 2000");
    }
    var tr = s.training();
    if (!List.of("lstm", "gru").contains(tr.cell().toLowerCase(Locale.ROOT))) {
      throw error(
          src, env, "training.cell", "'" + tr.cell() + "' is not a cell type", "use lstm or gru");
    }
    if (tr.layers() < 1 || tr.layers() > 8) {
      throw error(src, env, "training.layers", "must be between 1 and 8", "set e.g. 1");
    }
    if (tr.hiddenSize() < 1 || tr.hiddenSize() > 4096) {
      throw error(src, env, "training.hiddenSize", "must be between 1 and 4096", "set e.g. 32");
    }
    if (tr.validationFraction() <= 0 || tr.validationFraction() >= 0.9) {
      throw error(src, env, "training.validationFraction", "must be in (0, 0.9)", "set e.g. 0.2");
    }
    if (!List.of("mse", "huber").contains(tr.loss().toLowerCase(Locale.ROOT))) {
      throw error(
          src, env, "training.loss", "'" + tr.loss() + "' is not a loss", "use mse or huber");
    }
    var ex = s.execution();
    if (!List.of("cpu", "cuda").contains(ex.provider().toLowerCase(Locale.ROOT))) {
      throw error(
          src,
          env,
          "execution.provider",
          "'" + ex.provider() + "' is not a provider",
          "use cpu or cuda");
    }
    if (ex.intraOpThreads() < 1) {
      throw error(src, env, "execution.intraOpThreads", "must be at least 1", "set e.g. 1");
    }
    var p = s.processing();
    if (!List.of("exactly_once_v2", "at_least_once").contains(p.guarantee())) {
      throw error(
          src,
          env,
          "processing.guarantee",
          "'" + p.guarantee() + "' is not supported",
          "use exactly_once_v2 (default) or at_least_once");
    }
    if (p.numStreamThreads() < 1) {
      throw error(src, env, "processing.numStreamThreads", "must be at least 1", "set e.g. 1");
    }
    if (p.standbyReplicas() < 0) {
      throw error(src, env, "processing.standbyReplicas", "must be 0 or more", "set e.g. 1");
    }
    if (p.commitIntervalMs() < 1) {
      throw error(src, env, "processing.commitIntervalMs", "must be at least 1", "set e.g. 100");
    }
    if (p.cacheMaxBytes() < 0) {
      throw error(
          src, env, "processing.cacheMaxBytes", "must be 0 (no cache) or more", "set e.g. 0");
    }
    if (p.batchSize() < 1 || p.batchSize() > 1024) {
      throw error(
          src, env, "processing.batchSize", "must be between 1 and 1024", "set 1 (no batching)");
    }
  }

  private static void requireTopic(String src, Map<String, String> env, String field, String name) {
    if (name == null || !TOPIC.matcher(name).matches() || name.equals(".") || name.equals("..")) {
      throw error(
          src,
          env,
          field,
          name == null ? "is missing" : "'" + name + "' is not a valid topic name",
          "use letters, digits, '.', '_' and '-' (at most 249)");
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
