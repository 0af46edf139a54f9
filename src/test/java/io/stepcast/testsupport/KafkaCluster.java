package io.stepcast.testsupport;

import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A Kafka cluster an integration test talks to, whatever runs it: the shared embedded broker or a
 * Testcontainers broker.
 */
@FunctionalInterface
public interface KafkaCluster {

  /** The {@code bootstrap.servers} value for clients of this cluster. */
  String bootstrapServers();

  /** A new admin client for this cluster; the caller closes it. */
  default Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
  }
}
