package io.stepcast;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.testsupport.ClassReferences;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Imports go one way, along the runtimes (STYLE.md, rule 1): the packages the server runs on never
 * refer to the trainer, the benchmark or the commands, nor to DJL, JMH or the Kafka broker, so the
 * server image can leave those out; the trainer never refers to the server's HTTP and metrics side.
 * Read from the compiled classes ({@code target/classes}), so a reference through a fully qualified
 * name or a field type counts as much as an import. {@code ServerImageIT} checks the classes {@code
 * run} reaches against the server image's class path.
 */
class PackageDirectionTest {
  private static final Path CLASSES = Path.of("target/classes/io/stepcast");

  /** The server's packages ({@code kafka} less its embedded broker) and what they may not use. */
  private static final Set<String> SERVER_PACKAGES =
      Set.of("config", "features", "model", "state", "engine", "topology", "serve", "kafka");

  private static final List<String> NOT_FOR_THE_SERVER =
      List.of(
          "io/stepcast/train/",
          "io/stepcast/bench/",
          "io/stepcast/cli/",
          "ai/djl/",
          "org/openjdk/jmh/",
          "kafka/",
          "scala/",
          "io/stepcast/kafka/EmbeddedKafkaBroker");

  /**
   * The embedded broker: in {@code kafka} with the topic tools, but only demo, tests and cli use
   * it.
   */
  private static final String BROKER = "io/stepcast/kafka/EmbeddedKafkaBroker";

  @Test
  void shouldKeepTheServerPackagesFreeOfTrainerBenchmarkCommandsAndBroker() throws IOException {
    List<String> violations = new ArrayList<>();
    for (String pkg : SERVER_PACKAGES) {
      for (Path c : classes(pkg)) {
        String name = internalName(c);
        if (name.startsWith(BROKER)) {
          continue;
        }
        for (String ref : ClassReferences.of(Files.readAllBytes(c))) {
          if (NOT_FOR_THE_SERVER.stream().anyMatch(ref::startsWith)) {
            violations.add(name + " -> " + ref);
          }
        }
      }
    }
    assertThat(violations).isEmpty();
  }

  @Test
  void shouldKeepTheTrainerOffTheServersHttpMetricsBenchmarkAndCommands() throws IOException {
    List<String> violations = new ArrayList<>();
    for (Path c : classes("train")) {
      for (String ref : ClassReferences.of(Files.readAllBytes(c))) {
        if (Stream.of("io/stepcast/serve/", "io/stepcast/bench/", "io/stepcast/cli/", BROKER)
            .anyMatch(ref::startsWith)) {
          violations.add(internalName(c) + " -> " + ref);
        }
      }
    }
    assertThat(violations).isEmpty();
  }

  @Test
  void shouldSeeTheCompiledClasses() throws IOException {
    // The rules above pass vacuously on an empty directory: make sure they looked at something.
    assertThat(classes("serve")).isNotEmpty();
    assertThat(classes("train")).isNotEmpty();
  }

  private static List<Path> classes(String pkg) throws IOException {
    Path dir = CLASSES.resolve(pkg);
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.toString().endsWith(".class")).sorted().toList();
    }
  }

  private static String internalName(Path classFile) {
    String rel = CLASSES.getParent().getParent().relativize(classFile).toString();
    return rel.substring(0, rel.length() - ".class".length()).replace('\\', '/');
  }
}
