package io.stepcast.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Kafka client properties from the environment: {@code STEPCAST_KAFKA_SECURITY_PROTOCOL=SASL_SSL}
 * becomes {@code security.protocol=SASL_SSL}. This is how Kubernetes Secrets reach the clients
 * (SASL/SCRAM credentials, TLS trust stores) without a file in the image.
 *
 * <p>{@link #validated} checks them against Kafka's own declarations ({@code ConfigDef} of the
 * producer, consumer, admin client and Kafka Streams) before any client starts: a value of the
 * wrong type or outside the allowed set, and a name one or two letters away from a real property,
 * are one-line errors. Other unknown names pass, since plugins may read their own properties.
 */
public final class ClientProperties {
  /** Prefix of the environment variables that become Kafka client properties. */
  public static final String PREFIX = "STEPCAST_KAFKA_";

  /** Kafka Streams' per-client prefixes ({@code producer.linger.ms}). */
  private static final List<String> STREAMS_PREFIXES =
      List.of(
          StreamsConfig.MAIN_CONSUMER_PREFIX,
          StreamsConfig.RESTORE_CONSUMER_PREFIX,
          StreamsConfig.GLOBAL_CONSUMER_PREFIX,
          StreamsConfig.CONSUMER_PREFIX,
          StreamsConfig.PRODUCER_PREFIX,
          StreamsConfig.ADMIN_CLIENT_PREFIX);

  private static final List<ConfigDef> DEFS =
      List.of(
          ProducerConfig.configDef(),
          ConsumerConfig.configDef(),
          AdminClientConfig.configDef(),
          StreamsConfig.configDef());

  private ClientProperties() {}

  /** The client properties set in {@code env}. */
  public static Map<String, String> fromEnv(Map<String, String> env) {
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (e.getKey().startsWith(PREFIX) && e.getKey().length() > PREFIX.length()) {
        out.put(property(e.getKey()), e.getValue());
      }
    }
    return out;
  }

  /**
   * The client properties set in {@code env}, each checked against Kafka's declarations.
   *
   * @throws ConfigException naming the variable, the property and the fix
   */
  public static Map<String, String> validated(Map<String, String> env) {
    Map<String, String> names = new TreeMap<>();
    for (String variable : env.keySet()) {
      if (variable.startsWith(PREFIX) && variable.length() > PREFIX.length()) {
        names.put(property(variable), variable);
      }
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : names.entrySet()) {
      String value = env.get(e.getValue());
      check(e.getValue(), e.getKey(), value);
      out.put(e.getKey(), value);
    }
    return new TreeMap<>(out);
  }

  private static String property(String variable) {
    return variable.substring(PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
  }

  private static void check(String variable, String property, String value) {
    if (property.startsWith(StreamsConfig.TOPIC_PREFIX)) {
      return; // topic configs of internal topics: the broker checks them
    }
    String name = property;
    for (String p : STREAMS_PREFIXES) {
      if (property.startsWith(p)) {
        name = property.substring(p.length());
        break;
      }
    }
    List<String> known = new ArrayList<>();
    boolean found = false;
    for (ConfigDef def : DEFS) {
      ConfigDef.ConfigKey key = def.configKeys().get(name);
      known.addAll(def.names());
      if (key == null) {
        continue;
      }
      found = true;
      try {
        Object parsed = ConfigDef.parseType(name, value, key.type);
        if (key.validator != null) {
          key.validator.ensureValid(name, parsed);
        }
      } catch (org.apache.kafka.common.config.ConfigException ex) {
        throw new ConfigException(
            "environment variable " + variable,
            "property '" + property + "': " + firstLine(ex.getMessage()),
            "give a valid value (Kafka's documentation of " + name + " lists them)");
      }
    }
    if (!found) {
      String squashed = name.replace(".", "");
      for (String k : known) {
        if (k.replace(".", "").equals(squashed) || Names.distance(k, name) <= 2) {
          throw new ConfigException(
              "environment variable " + variable,
              "'" + name + "' is not a Kafka client property",
              "did you mean "
                  + k
                  + " ("
                  + PREFIX
                  + k.toUpperCase(Locale.ROOT).replace('.', '_')
                  + ")? Rename the variable or unset it");
        }
      }
    }
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse(s);
  }
}
