package io.stepcast.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Prometheus' own checker, {@code promtool check metrics}, run on a scrape (Debian package {@code
 * prometheus}). Without promtool on the PATH the calling test is skipped, unless the system
 * property {@code stepcast.requirePromtool=true} is set (CI), in which case it fails.
 */
public final class Promtool {

  /** The outcome of one check: exit code and everything promtool printed. */
  public record Result(int exitCode, String output) {}

  private Promtool() {}

  /** The promtool executable on the PATH (or at {@code -Dstepcast.promtool=...}), if any. */
  public static Optional<Path> find() {
    String explicit = System.getProperty("stepcast.promtool");
    if (explicit != null && !explicit.isBlank()) {
      return Optional.of(Path.of(explicit)).filter(Files::isExecutable);
    }
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path p = Path.of(dir, "promtool");
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** promtool, or a skipped (or, when required, failed) test. */
  public static Path require() {
    Optional<Path> p = find();
    if (p.isEmpty()) {
      String message =
          "promtool is not on the PATH: install it (apt-get install prometheus) to check the"
              + " metrics text with Prometheus' own checker";
      if (Boolean.getBoolean("stepcast.requirePromtool")) {
        throw new AssertionError(message + " (required by -Dstepcast.requirePromtool=true)");
      }
      Assumptions.abort(message);
    }
    return p.get();
  }

  /** Runs {@code promtool check metrics} with the scrape on standard input. */
  public static Result checkMetrics(Path promtool, String scrape)
      throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(promtool.toString(), "check", "metrics")
            .redirectErrorStream(true)
            .start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(scrape.getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("promtool check metrics did not finish within 60 s");
    }
    return new Result(p.exitValue(), out);
  }
}
