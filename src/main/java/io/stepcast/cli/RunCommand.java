package io.stepcast.cli;

import io.stepcast.config.ConfigException;
import io.stepcast.config.ProcessChecks;
import io.stepcast.config.TopologySpec;
import io.stepcast.serve.ForecastService;
import io.stepcast.serve.StaticMembership;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stepcast run}: one forecaster instance until it is stopped. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the forecaster for one pipeline: reads events from the input topic, emits one forecast"
          + " per good event, sends bad events to the dead-letter topic.",
      "Without --bootstrap-servers it starts an embedded single-node KRaft broker in --data-dir."
    })
final class RunCommand implements Callable<Integer> {
  /**
   * The environment variable that may hold the bearer token itself. Deliberately not an option: a
   * token on the command line is visible to every user of the machine.
   */
  static final String HTTP_TOKEN_ENV = "STEPCAST_HTTP_TOKEN";

  @Mixin CommonOptions common;

  @Option(
      names = "--state-dir",
      description =
          "Kafka Streams state directory. Env: STEPCAST_STATE_DIR. Default: ${DEFAULT-VALUE}",
      defaultValue = "${env:STEPCAST_STATE_DIR:-data/state}")
  Path stateDir;

  @Option(
      names = "--http-port",
      description =
          "HTTP port for /metrics, /health and /series. Env: STEPCAST_HTTP_PORT. Default: ${DEFAULT-VALUE}",
      defaultValue = "${env:STEPCAST_HTTP_PORT:-8080}")
  int httpPort;

  @Option(
      names = "--http-bind-address",
      description =
          "Address the HTTP server listens on (an IP address or host name of this machine). Env:"
              + " STEPCAST_HTTP_BIND_ADDRESS. Default: every interface",
      defaultValue = "${env:STEPCAST_HTTP_BIND_ADDRESS}")
  String httpBindAddress;

  @Option(
      names = "--http-token-file",
      description =
          "File holding the bearer token /series requires (Authorization: Bearer <token>);"
              + " /health and /metrics stay open. Env: STEPCAST_HTTP_TOKEN_FILE, or the token"
              + " itself in "
              + HTTP_TOKEN_ENV
              + ". Default: no token",
      defaultValue = "${env:STEPCAST_HTTP_TOKEN_FILE}")
  Path httpTokenFile;

  @Option(
      names = "--application-server",
      description =
          "host:port at which other instances reach this one's HTTP API (Kafka Streams application.server). Env: STEPCAST_APPLICATION_SERVER",
      defaultValue = "${env:STEPCAST_APPLICATION_SERVER}")
  String applicationServer;

  @Option(
      names = "--model-dir",
      description =
          "Watch this directory for models (overrides model.directory). Env: STEPCAST_MODEL_DIR",
      defaultValue = "${env:STEPCAST_MODEL_DIR}")
  Path modelDir;

  @Option(
      names = "--data-dir",
      description = "Data directory of the embedded broker. Default: ${DEFAULT-VALUE}",
      defaultValue = "data/kafka")
  Path dataDir;

  @Option(
      names = "--embedded-port",
      description =
          "Client port of the embedded broker (0: any free port). Default: ${DEFAULT-VALUE}",
      defaultValue = "9092")
  int embeddedPort;

  @Option(
      names = "--group-instance-id",
      description =
          "Static group membership (a SIGKILLed instance restarted at once takes its partitions"
              + " back without waiting for session.timeout.ms): auto derives a stable id from a file"
              + " written once into --state-dir, none turns it off, anything else is the id (the"
              + " chart passes the pod name). Env: STEPCAST_GROUP_INSTANCE_ID. Default:"
              + " ${DEFAULT-VALUE}",
      defaultValue = "${env:STEPCAST_GROUP_INSTANCE_ID:-auto}")
  String groupInstanceId;

  @Override
  public Integer call() throws Exception {
    TopologySpec spec = common.spec();
    String token = httpToken();
    String bootstrap = preflight(spec);
    Map<String, String> clientProperties =
        StaticMembership.apply(
            CommonOptions.clientProperties(),
            groupInstanceId,
            "--group-instance-id (STEPCAST_GROUP_INSTANCE_ID)",
            stateDir);
    LocalBroker broker = null;
    if (bootstrap == null) {
      broker = LocalBroker.start(dataDir, embeddedPort);
      bootstrap = broker.bootstrapServers();
      System.err.println(
          "stepcast: no --bootstrap-servers given; started an embedded KRaft broker at "
              + bootstrap
              + " (data in "
              + dataDir
              + ")");
    }
    ForecastService service =
        ForecastService.start(
            new ForecastService.Options(
                spec,
                bootstrap,
                stateDir,
                httpPort,
                applicationServer,
                modelDir,
                clientProperties,
                httpBindAddress,
                token));
    LocalBroker b = broker;
    Thread hook =
        new Thread(
            () -> {
              service.close();
              if (b != null) {
                b.close();
              }
            },
            "stepcast-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    System.err.println(
        "stepcast: pipeline "
            + spec.name()
            + " running; "
            + spec.topics().input()
            + " -> "
            + spec.topics().output()
            + "; http://localhost:"
            + service.httpPort()
            + "/metrics");
    service.awaitStop();
    return 1;
  }

  /** The bearer token for /series from --http-token-file or STEPCAST_HTTP_TOKEN; null for none. */
  private String httpToken() {
    String env = System.getenv("STEPCAST_HTTP_TOKEN");
    if (httpTokenFile != null) {
      if (env != null && !env.isBlank()) {
        throw new UserException(
            "both --http-token-file (STEPCAST_HTTP_TOKEN_FILE) and "
                + HTTP_TOKEN_ENV
                + " are set: keep one of them");
      }
      String token;
      try {
        token = Files.readString(httpTokenFile, StandardCharsets.UTF_8).strip();
      } catch (IOException | UncheckedIOException e) {
        throw new UserException(
            "--http-token-file (STEPCAST_HTTP_TOKEN_FILE): cannot read "
                + httpTokenFile
                + " ("
                + e.getMessage()
                + "); point it at a readable file that holds the token");
      }
      if (token.isEmpty()) {
        throw new UserException(
            "--http-token-file (STEPCAST_HTTP_TOKEN_FILE): "
                + httpTokenFile
                + " is empty; put the token in it, or unset the option to run without one");
      }
      return token;
    }
    return env == null || env.isBlank() ? null : env.strip();
  }

  /**
   * Checks the options that need no Kafka client (ports free and in range, directories writable,
   * addresses well formed), so that a mistake is one line before any topic is created.
   *
   * @return the bootstrap servers, or null to start an embedded broker
   */
  String preflight(TopologySpec spec) {
    ProcessChecks.portFree(httpPort, "--http-port / STEPCAST_HTTP_PORT");
    ProcessChecks.writableDirectory(stateDir, "--state-dir / STEPCAST_STATE_DIR");
    if (applicationServer != null) {
      ProcessChecks.endpoint(
          applicationServer,
          "--application-server / STEPCAST_APPLICATION_SERVER",
          "give the host:port at which other instances reach this one's HTTP API, e.g."
              + " pod-0.stepcast:8080");
    }
    Path models =
        modelDir != null
            ? modelDir
            : spec.model().directory() == null ? null : Path.of(spec.model().directory());
    if (models != null && Files.exists(models) && !Files.isDirectory(models)) {
      // A missing directory is fine (models may arrive later); a file never holds models.
      throw new ConfigException(
          modelDir != null
              ? "--model-dir / STEPCAST_MODEL_DIR (" + models + ")"
              : common.topology + ": field 'model.directory' (" + models + ")",
          "is a file, not a directory",
          "give the directory that holds (or will hold) the *.onnx models");
    }
    String bootstrap = common.optionalBootstrap();
    if (bootstrap == null) {
      LocalBroker.checkAvailable();
      ProcessChecks.portFree(embeddedPort, "--embedded-port");
      ProcessChecks.writableDirectory(dataDir, "--data-dir");
    }
    return bootstrap;
  }
}
