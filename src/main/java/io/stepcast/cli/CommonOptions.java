package io.stepcast.cli;

import io.stepcast.config.ClientProperties;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options every command that talks to Kafka shares; each has an environment variable. */
final class CommonOptions {
  @Option(
      names = {"-t", "--topology"},
      description = "Topology spec (YAML). Env: STEPCAST_TOPOLOGY. Default: ${DEFAULT-VALUE}",
      defaultValue = "${env:STEPCAST_TOPOLOGY:-topologies/weather.yaml}")
  Path topology;

  @Option(
      names = {"-b", "--bootstrap-servers"},
      description =
          "Kafka bootstrap servers. Env: STEPCAST_BOOTSTRAP_SERVERS. Without one, `run` starts an"
              + " embedded single-node KRaft broker.",
      defaultValue = "${env:STEPCAST_BOOTSTRAP_SERVERS}")
  String bootstrapServers;

  TopologySpec spec() {
    return SpecLoader.load(topology);
  }

  /** Kafka client properties from STEPCAST_KAFKA_* variables (security, tuning). */
  static Map<String, String> clientProperties() {
    return ClientProperties.fromEnv(System.getenv());
  }

  String requireBootstrap(String command) {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new UserException(
          command
              + " needs a broker: pass --bootstrap-servers HOST:PORT or set STEPCAST_BOOTSTRAP_SERVERS");
    }
    return bootstrapServers;
  }
}
