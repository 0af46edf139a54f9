package io.stepcast.cli;

import io.stepcast.config.ClientProperties;
import io.stepcast.config.ProcessChecks;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.ClusterPreflight;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Options every command that talks to Kafka shares; each has an environment variable. */
final class CommonOptions {
  /** How errors about the broker option name it. */
  static final String BOOTSTRAP = "--bootstrap-servers / STEPCAST_BOOTSTRAP_SERVERS";

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

  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  /**
   * The spec, with the process environment over it; a {@code STEPCAST_*} variable that neither a
   * spec field nor an option reads is an error.
   */
  TopologySpec spec() {
    Set<String> optionVariables = command == null ? Set.of() : CliEnvironment.names(command.root());
    return SpecLoader.load(topology, System.getenv(), optionVariables);
  }

  /**
   * Kafka client properties from STEPCAST_KAFKA_* variables (security, tuning), checked against
   * Kafka's declarations before any client starts.
   */
  static Map<String, String> clientProperties() {
    return ClientProperties.validated(System.getenv());
  }

  /**
   * The bootstrap servers, checked for form; null when none was given (neither the option nor the
   * variable), an error when one was given empty.
   */
  String optionalBootstrap() {
    if (bootstrapServers == null) {
      return null;
    }
    ProcessChecks.bootstrapServers(bootstrapServers, BOOTSTRAP);
    return bootstrapServers.strip();
  }

  String requireBootstrap(String command) {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new UserException(
          command
              + " needs a broker: pass --bootstrap-servers HOST:PORT or set STEPCAST_BOOTSTRAP_SERVERS");
    }
    return reachableBootstrap();
  }

  /**
   * The bootstrap servers when given, checked to answer the Kafka protocol within {@link
   * ClusterPreflight#TIMEOUT} (one line naming the servers and the fix otherwise); null when none
   * was given.
   */
  String reachableBootstrap() {
    String bootstrap = optionalBootstrap();
    if (bootstrap != null) {
      ClusterPreflight.reachable(bootstrap, clientProperties());
    }
    return bootstrap;
  }
}
