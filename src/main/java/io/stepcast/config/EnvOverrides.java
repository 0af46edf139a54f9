package io.stepcast.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Environment variables over a spec: {@code STEPCAST_} + the setting's path in upper snake case
 * (Kubernetes ConfigMaps and Secrets). Text settings take the value as it is; others read it as
 * YAML, so numbers, booleans and lists keep their types. A {@code STEPCAST_*} variable that is no
 * setting stepcast reads is an error naming the nearest valid one: a misspelt override must not be
 * silently ignored.
 */
final class EnvOverrides {
  private EnvOverrides() {}

  /**
   * Fails on the first (in name order) {@code STEPCAST_*} variable that stepcast neither reads nor
   * tolerates.
   *
   * @param alsoKnown further names that are read (the command line's own options)
   */
  static void checkNames(Map<String, String> env, Set<String> alsoKnown) {
    Set<String> valid = new TreeSet<>(SpecSettings.documentedNames());
    valid.addAll(alsoKnown);
    valid.remove(SpecSettings.CLIENT_PREFIX + "*");
    for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
      String name = e.getKey();
      if (!name.startsWith(SpecSettings.ENV_PREFIX)
          || alsoKnown.contains(name)
          || SpecSettings.isKnown(name, e.getValue())) {
        continue;
      }
      String suggestion =
          Names.nearest(name, valid)
              .map(
                  n ->
                      "rename it to "
                          + n
                          + SpecSettings.byEnvName(n).map(s -> " (" + s.path() + ")").orElse("")
                          + " or unset it")
              .orElse(
                  "unset it; the variables stepcast reads are listed in the README's"
                      + " Configuration section (Kafka client properties start with "
                      + SpecSettings.CLIENT_PREFIX
                      + ")");
      throw new ConfigException(
          "environment variable " + name, "is not a stepcast setting", suggestion);
    }
  }

  /**
   * Sets every overridden setting in {@code tree}; records in {@code fromEnv} which variable set
   * which path, so that a validation error can name the variable.
   */
  static void apply(
      ObjectMapper yaml, ObjectNode tree, Map<String, String> env, Map<String, String> fromEnv) {
    for (Setting s : SpecSettings.SPEC) {
      String value = env.get(s.envName());
      if (value == null) {
        continue;
      }
      JsonNode parsed;
      if (value.isEmpty()) {
        parsed = JsonNodeFactory.instance.nullNode();
      } else if (s.isText()) {
        parsed = JsonNodeFactory.instance.textNode(value);
      } else {
        try {
          parsed = yaml.readTree(value);
        } catch (JsonProcessingException e) {
          throw new ConfigException(
              "environment variable " + s.envName(),
              s.path(),
              "'" + value + "' is not a valid YAML value",
              "quote it or write it as YAML, e.g. [{field: pressure}] for a list");
        }
      }
      String[] parts = s.path().split("\\.");
      ObjectNode node = tree;
      for (int i = 0; i < parts.length - 1; i++) {
        JsonNode child = node.get(parts[i]);
        if (child == null || !child.isObject()) {
          child = node.putObject(parts[i]);
        }
        node = (ObjectNode) child;
      }
      node.set(parts[parts.length - 1], parsed);
      fromEnv.put(s.path(), s.envName());
    }
  }
}
