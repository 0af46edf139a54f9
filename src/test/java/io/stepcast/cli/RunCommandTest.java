package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run}'s HTTP settings that fail before anything starts (no broker, no Kafka client): a
 * token file that cannot be used is one line naming the option and the fix.
 */
class RunCommandTest {
  @TempDir Path dir;

  @Test
  void shouldRefuseAMissingTokenFileInOneLineBeforeStarting() {
    Path missing = dir.resolve("no-such-token");
    CliRun.Result r = CliRun.run("run", "--http-token-file", missing.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip())
        .doesNotContain("\n")
        .contains("--http-token-file (STEPCAST_HTTP_TOKEN_FILE)")
        .contains("cannot read " + missing);
  }

  @Test
  void shouldRefuseAnEmptyTokenFileInOneLineBeforeStarting() throws Exception {
    Path empty = Files.writeString(dir.resolve("token"), " \n");
    CliRun.Result r = CliRun.run("run", "--http-token-file", empty.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n").contains(empty + " is empty");
  }
}
