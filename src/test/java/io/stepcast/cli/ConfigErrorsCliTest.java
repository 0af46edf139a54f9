package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operator mistakes on the command line: {@code stepcast run} prints one line naming the option or
 * file, the field and the fix, exits with 2, prints no stack trace, and no Kafka client has
 * connected anywhere (the bootstrap servers point at a socket that records connections).
 */
class ConfigErrorsCliTest {
  @TempDir Path dir;
  private ServerSocket kafka;
  private String bootstrap;

  @BeforeEach
  void listen() throws IOException {
    kafka = new ServerSocket();
    kafka.bind(new InetSocketAddress("127.0.0.1", 0));
    bootstrap = "127.0.0.1:" + kafka.getLocalPort();
  }

  @AfterEach
  void close() throws IOException {
    kafka.close();
  }

  private CliRun.Result run(String... extra) {
    List<String> args =
        new ArrayList<>(List.of("run", "--state-dir", dir.resolve("state").toString()));
    args.addAll(List.of(extra));
    return CliRun.run(args.toArray(String[]::new));
  }

  /** One line "error: ..." containing every part, exit code 2, and nobody connected to Kafka. */
  private void assertOneLineAndNoKafkaClient(CliRun.Result r, String... parts) throws IOException {
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines().toList()).as(r.err()).hasSize(1);
    assertThat(r.err()).startsWith("error: ").contains("Fix: ").doesNotContain("\tat ");
    for (String p : parts) {
      assertThat(r.err()).contains(p);
    }
    kafka.setSoTimeout(200);
    boolean connected;
    try {
      kafka.accept().close();
      connected = true;
    } catch (SocketTimeoutException e) {
      connected = false;
    }
    assertThat(connected).as("a Kafka client connected to %s", bootstrap).isFalse();
  }

  @Test
  void shouldRefuseADirectoryAsTheSpec() throws IOException {
    assertOneLineAndNoKafkaClient(
        run("-t", "topologies", "-b", bootstrap, "--http-port", "0"),
        "topologies: is a directory, not a spec file",
        "stocks.yaml");
  }

  @Test
  void shouldRefuseANegativeCudaDevice() throws IOException {
    Path spec = dir.resolve("cuda.yaml");
    Files.writeString(
        spec,
        Files.readString(Path.of("topologies/weather.yaml"))
            + "execution:\n  provider: cuda\n  cudaDeviceId: -7\n");
    assertOneLineAndNoKafkaClient(
        run("-t", spec.toString(), "-b", bootstrap, "--http-port", "0"),
        "field 'execution.cudaDeviceId': is -7");
  }

  @Test
  void shouldNameThePortAndTheFlagWhenTheHttpPortIsInUse() throws IOException {
    try (ServerSocket busy = new ServerSocket()) {
      busy.bind(new InetSocketAddress(0));
      int port = busy.getLocalPort();
      assertOneLineAndNoKafkaClient(
          run("-b", bootstrap, "--http-port", Integer.toString(port)),
          "--http-port / STEPCAST_HTTP_PORT: port " + port + " is already in use");
    }
  }

  @Test
  void shouldRefuseAPortOutOfRange() throws IOException {
    assertOneLineAndNoKafkaClient(
        run("-b", bootstrap, "--http-port", "70000"), "port 70000 is out of range");
  }

  @Test
  void shouldRefuseAStateDirectoryThatIsAFile() throws IOException {
    Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
    assertOneLineAndNoKafkaClient(
        CliRun.run("run", "-b", bootstrap, "--http-port", "0", "--state-dir", file.toString()),
        "--state-dir / STEPCAST_STATE_DIR (" + file + "): is a file");
  }

  @Test
  void shouldRefuseEmptyBootstrapServersInsteadOfStartingAnEmbeddedBroker() throws IOException {
    CliRun.Result r = run("-b", "", "--http-port", "0");
    assertOneLineAndNoKafkaClient(r, "--bootstrap-servers / STEPCAST_BOOTSTRAP_SERVERS: is empty");
    assertThat(r.err()).doesNotContain("started an embedded");
  }

  @Test
  void shouldRefuseEmptyBootstrapServersInEveryCommandThatTakesThem() throws IOException {
    assertOneLineAndNoKafkaClient(
        CliRun.run("train", "--csv", "samples/none.csv", "-b", " ", "--out", dir.toString()),
        "--bootstrap-servers / STEPCAST_BOOTSTRAP_SERVERS: is empty");
    assertOneLineAndNoKafkaClient(
        CliRun.run("replay", "--csv", "samples/none.csv", "-b", "kafka"),
        "'kafka' is not HOST:PORT");
  }

  @Test
  void shouldSayAtOnceThatNoBrokerAnswersInEveryCommandThatNeedsOne() throws IOException {
    String closed;
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      closed = "127.0.0.1:" + s.getLocalPort();
    }
    List<CliRun.Result> results =
        List.of(
            CliRun.run("replay", "--csv", "samples/stocks.csv", "-b", closed),
            CliRun.run("train", "--source", "topic", "-b", closed, "--out", dir.toString()),
            CliRun.run(
                "train",
                "-t",
                "topologies/stocks.yaml",
                "--csv",
                "samples/stocks.csv",
                "--publish",
                "-b",
                closed,
                "--out",
                dir.toString()));
    for (CliRun.Result r : results) {
      assertOneLineAndNoKafkaClient(r, "cannot reach Kafka at " + closed);
    }
    assertThat(dir).isDirectoryNotContaining("glob:**.onnx");
  }

  @Test
  void shouldRefuseAFileAsTheModelDirectory() throws IOException {
    Path file = Files.writeString(dir.resolve("model.onnx"), "x");
    assertOneLineAndNoKafkaClient(
        run("-b", bootstrap, "--http-port", "0", "--model-dir", file.toString()),
        "--model-dir / STEPCAST_MODEL_DIR (" + file + "): is a file, not a directory");
  }

  @Test
  void shouldRefuseABrokerPortOutOfRange() throws IOException {
    assertOneLineAndNoKafkaClient(
        CliRun.run("broker", "--port", "70000", "--data-dir", dir.toString()),
        "--port: port 70000 is out of range");
  }

  @Test
  void shouldRefuseAMalformedApplicationServer() throws IOException {
    assertOneLineAndNoKafkaClient(
        run("-b", bootstrap, "--http-port", "0", "--application-server", "pod-0"),
        "--application-server / STEPCAST_APPLICATION_SERVER: 'pod-0' is not HOST:PORT");
  }

  @Test
  void shouldExitWithOneLineForAMisspeltVariableInItsOwnProcess() throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp",
            System.getProperty("java.class.path"),
            "io.stepcast.cli.Main",
            "run",
            "-b",
            bootstrap,
            "--http-port",
            "0",
            "--state-dir",
            dir.resolve("state").toString());
    pb.environment().keySet().removeIf(k -> k.startsWith("STEPCAST_"));
    pb.environment().put("STEPCAST_TRAGET_FIELD", "temperature");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(output).isEqualTo(2);
    assertThat(output.lines().toList())
        .as(output)
        .containsExactly(
            "error: environment variable STEPCAST_TRAGET_FIELD: is not a stepcast setting. Fix:"
                + " rename it to STEPCAST_TARGET_FIELD (target.field) or unset it");
    assertOneLineAndNoKafkaClient(new CliRun.Result(2, "", output), "STEPCAST_TARGET_FIELD");
  }
}
