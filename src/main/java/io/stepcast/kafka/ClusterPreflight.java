package io.stepcast.kafka;

import io.stepcast.config.ConfigException;
import io.stepcast.config.TopologySpec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;

/**
 * Checks a Kafka cluster before a pipeline creates its topics or starts Kafka Streams, each failure
 * a one-line {@link ConfigException} with the fix: the bootstrap servers answer within {@link
 * #TIMEOUT} (a plain TCP connection first, so a wrong host or port is reported at once, then the
 * Kafka protocol with bounded timeouts, so TLS, SASL or unreachable advertised listeners are too),
 * and {@code topics.replicationFactor} is not above the number of brokers when a topic is still to
 * be created.
 */
public final class ClusterPreflight {
  /** The longest the checks take before an unreachable cluster is reported. */
  public static final Duration TIMEOUT = Duration.ofSeconds(15);

  static final String BOOTSTRAP = "--bootstrap-servers / STEPCAST_BOOTSTRAP_SERVERS";
  private static final Duration CONNECT = Duration.ofSeconds(3);

  private ClusterPreflight() {}

  /**
   * Checks that the cluster at {@code bootstrap} answers and can hold {@code spec}'s topics.
   *
   * @param clientProperties Kafka client properties (security) from the environment
   * @throws ConfigException naming the bootstrap servers or the field, with the fix
   */
  public static void check(
      TopologySpec spec, String bootstrap, Map<String, String> clientProperties) {
    Cluster c = describe(bootstrap, clientProperties, "stepcast-preflight-" + spec.name());
    requireReplicas(spec, bootstrap, c.brokers(), c.topics());
  }

  /**
   * Checks only that the cluster at {@code bootstrap} answers the Kafka protocol within {@link
   * #TIMEOUT}: for the commands that read or write topics without running a pipeline ({@code train
   * --source topic}, {@code replay}, {@code model publish}), so an unreachable broker is one line
   * at once instead of a client retrying for minutes.
   *
   * @throws ConfigException naming the bootstrap servers, with the fix
   */
  public static void reachable(String bootstrap, Map<String, String> clientProperties) {
    describe(bootstrap, clientProperties, "stepcast-preflight");
  }

  /** What the checks learn of the cluster: its broker count and existing topics. */
  private record Cluster(int brokers, Set<String> topics) {}

  private static Cluster describe(
      String bootstrap, Map<String, String> clientProperties, String clientId) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    requireTcp(bootstrap);
    Map<String, Object> config = new HashMap<>(clientProperties);
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
    int remaining = left(deadline);
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, remaining);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, remaining);
    config.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, 3000L);
    config.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, 3000L);
    Admin admin;
    try {
      admin = Admin.create(config);
    } catch (KafkaException e) {
      throw new ConfigException(
          BOOTSTRAP + " (" + bootstrap + ")",
          "the Kafka client cannot start: " + rootMessage(e),
          "check the broker addresses and the STEPCAST_KAFKA_* client properties");
    }
    try {
      Collection<Node> nodes =
          admin
              .describeCluster(new DescribeClusterOptions().timeoutMs(remaining))
              .nodes()
              .get(remaining + 500L, TimeUnit.MILLISECONDS);
      int rest = left(deadline);
      Set<String> existing =
          admin
              .listTopics(new ListTopicsOptions().timeoutMs(rest).listInternal(false))
              .names()
              .get(rest + 500L, TimeUnit.MILLISECONDS);
      return new Cluster(nodes.size(), existing);
    } catch (ExecutionException e) {
      throw unreachable(bootstrap, e.getCause());
    } catch (TimeoutException e) {
      throw unreachable(bootstrap, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking the Kafka cluster", e);
    } finally {
      admin.close(Duration.ofSeconds(1));
    }
  }

  /** Milliseconds left before {@code deadline}, less two seconds to close; at least one second. */
  private static int left(long deadline) {
    long ms = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) - 2000;
    return (int) Math.max(1000, ms);
  }

  /** Fails unless at least one bootstrap address accepts a TCP connection. */
  static void requireTcp(String bootstrap) {
    List<String> failures = new ArrayList<>();
    for (String entry : bootstrap.split(",")) {
      String e = entry.strip().replaceFirst("^[A-Za-z0-9_]+://", "");
      int colon = e.lastIndexOf(':');
      String host = e.substring(0, colon).replace("[", "").replace("]", "");
      int port = Integer.parseInt(e.substring(colon + 1));
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(host, port), (int) CONNECT.toMillis());
        return;
      } catch (UnknownHostException ex) {
        failures.add(e + ": unknown host");
      } catch (SocketTimeoutException ex) {
        failures.add(e + ": no answer within " + CONNECT.toSeconds() + " s");
      } catch (IOException ex) {
        failures.add(
            e + ": " + (ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage()));
      }
    }
    throw new ConfigException(
        BOOTSTRAP,
        "cannot reach Kafka at " + bootstrap + " (" + String.join("; ", failures) + ")",
        "check that a broker runs there and that host and port are right (nc -vz HOST PORT;"
            + " kafka-broker-api-versions.sh --bootstrap-server "
            + bootstrap
            + "), or leave both unset for `run` to start an embedded broker");
  }

  private static void requireReplicas(
      TopologySpec spec, String bootstrap, int brokers, Set<String> existing) {
    var t = spec.topics();
    Set<String> missing = new TreeSet<>(List.of(t.input(), t.output(), t.deadLetter(), t.model()));
    missing.removeAll(existing);
    if (!missing.isEmpty() && t.replicationFactor() > brokers) {
      throw new ConfigException(
          "pipeline " + spec.name(),
          "topics.replicationFactor",
          "is "
              + t.replicationFactor()
              + " but the cluster at "
              + bootstrap
              + " has "
              + brokers
              + " broker(s), so topics "
              + missing
              + " cannot be created",
          "set topics.replicationFactor to at most "
              + brokers
              + " (STEPCAST_TOPICS_REPLICATION_FACTOR="
              + brokers
              + "), or create the topics yourself");
    }
  }

  private static ConfigException unreachable(String bootstrap, Throwable cause) {
    if (cause instanceof AuthenticationException) {
      return new ConfigException(
          BOOTSTRAP + " (" + bootstrap + ")",
          "authentication failed: " + rootMessage(cause),
          "check STEPCAST_KAFKA_SECURITY_PROTOCOL, STEPCAST_KAFKA_SASL_MECHANISM and the"
              + " credentials in STEPCAST_KAFKA_SASL_JAAS_CONFIG");
    }
    if (cause instanceof AuthorizationException) {
      return new ConfigException(
          BOOTSTRAP + " (" + bootstrap + ")",
          "not authorized: " + rootMessage(cause),
          "grant this principal Describe on the cluster and its topics (kafka-acls.sh)");
    }
    return new ConfigException(
        BOOTSTRAP,
        "cannot reach Kafka at "
            + bootstrap
            + " within "
            + TIMEOUT.toSeconds()
            + " s: a TCP connection opens but the Kafka protocol does not answer ("
            + rootMessage(cause)
            + ")",
        "check that the port is a Kafka listener, that its protocol matches"
            + " STEPCAST_KAFKA_SECURITY_PROTOCOL (TLS or plaintext), and that the brokers'"
            + " advertised.listeners are reachable from here (kafka-broker-api-versions.sh"
            + " --bootstrap-server "
            + bootstrap
            + ")");
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return m.lines().findFirst().orElse(m);
  }
}
