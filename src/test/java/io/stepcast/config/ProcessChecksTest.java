package io.stepcast.config;

import static io.stepcast.config.SpecFixtures.assertOneLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessChecksTest {
  private static final String OPTION = "--bootstrap-servers / STEPCAST_BOOTSTRAP_SERVERS";
  @TempDir Path dir;

  @Test
  void shouldRejectEmptyOrMalformedBootstrapServers() {
    assertOneLine(
        () -> ProcessChecks.bootstrapServers("", OPTION),
        OPTION + ": is empty",
        "leave it unset for `run` to start an embedded broker");
    assertOneLine(() -> ProcessChecks.bootstrapServers("  ", OPTION), "is empty");
    assertOneLine(
        () -> ProcessChecks.bootstrapServers("localhost", OPTION),
        "'localhost' is not HOST:PORT",
        "e.g. localhost:9092");
    assertOneLine(
        () -> ProcessChecks.bootstrapServers("a:9092,,b:9092", OPTION), "'' is not HOST:PORT");
    assertOneLine(
        () -> ProcessChecks.bootstrapServers("kafka:90920", OPTION), "port 90920", "1 to 65535");
    assertThat(
            ProcessChecks.bootstrapServers("a:9092, SASL_SSL://b.example:9093,[::1]:9094", OPTION))
        .containsExactly("a:9092", "SASL_SSL://b.example:9093", "[::1]:9094");
  }

  @Test
  void shouldRejectAPortOutOfRange() {
    assertOneLine(
        () -> ProcessChecks.port(70000, "--http-port / STEPCAST_HTTP_PORT"),
        "--http-port / STEPCAST_HTTP_PORT: port 70000 is out of range",
        "0 picks a free one");
    assertOneLine(() -> ProcessChecks.portFree(-1, "--http-port"), "port -1 is out of range");
    assertThatCode(() -> ProcessChecks.portFree(0, "--http-port")).doesNotThrowAnyException();
  }

  @Test
  void shouldNameThePortAndTheOptionWhenThePortIsInUse() throws IOException {
    try (ServerSocket busy = new ServerSocket()) {
      busy.bind(new InetSocketAddress(0));
      int port = busy.getLocalPort();
      assertOneLine(
          () -> ProcessChecks.portFree(port, "--http-port / STEPCAST_HTTP_PORT"),
          "--http-port / STEPCAST_HTTP_PORT: port " + port + " is already in use",
          "sport = :" + port);
    }
  }

  @Test
  void shouldCreateAMissingStateDirectory() {
    Path state = dir.resolve("a/b/state");
    ProcessChecks.writableDirectory(state, "--state-dir");
    assertThat(state).isDirectory();
  }

  @Test
  void shouldRejectAStateDirectoryThatIsAFileOrCannotBeCreatedOrWritten() throws IOException {
    Path file = Files.writeString(dir.resolve("file"), "x");
    assertOneLine(
        () -> ProcessChecks.writableDirectory(file, "--state-dir / STEPCAST_STATE_DIR"),
        "--state-dir / STEPCAST_STATE_DIR (" + file + "): is a file, not a directory");
    assertOneLine(
        () -> ProcessChecks.writableDirectory(file.resolve("state"), "--state-dir"),
        "cannot be created",
        "is a file");
    // Unwritable even for root (the tests may run as root, for whom permissions do not apply).
    Path proc = Path.of("/proc/self");
    if (Files.isDirectory(proc)) {
      assertOneLine(
          () -> ProcessChecks.writableDirectory(proc, "--state-dir"),
          "--state-dir (/proc/self): is not writable",
          "make it writable");
    }
  }
}
