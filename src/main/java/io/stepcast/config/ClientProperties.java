package io.stepcast.config;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Kafka client properties from the environment: {@code STEPCAST_KAFKA_SECURITY_PROTOCOL=SASL_SSL}
 * becomes {@code security.protocol=SASL_SSL}. This is how Kubernetes Secrets reach the clients
 * (SASL/SCRAM credentials, TLS trust stores) without a file in the image.
 */
public final class ClientProperties {
  /** Prefix of the environment variables that become Kafka client properties. */
  public static final String PREFIX = "STEPCAST_KAFKA_";

  private ClientProperties() {}

  /** The client properties set in {@code env}. */
  public static Map<String, String> fromEnv(Map<String, String> env) {
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (e.getKey().startsWith(PREFIX) && e.getKey().length() > PREFIX.length()) {
        String name =
            e.getKey().substring(PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
        out.put(name, e.getValue());
      }
    }
    return out;
  }
}
