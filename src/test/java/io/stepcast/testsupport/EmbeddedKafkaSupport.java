package io.stepcast.testsupport;

import io.stepcast.kafka.EmbeddedKafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Holds the one embedded broker that all integration tests of a test JVM share.
 *
 * <p>The broker starts on first use, on a fresh temporary directory, and stops (deleting the
 * directory) when the JVM exits. Sharing it keeps the suite fast on a small machine: tests stay
 * independent by using unique topic names and application ids ({@link TestTopics}), never by
 * restarting the broker. A test that needs its own broker (a restart, say) starts one with {@link
 * EmbeddedKafkaBroker#builder} and closes it itself.
 */
public final class EmbeddedKafkaSupport {

  private static EmbeddedKafkaBroker broker;

  private EmbeddedKafkaSupport() {}

  /** The shared cluster, started on first call. */
  public static synchronized KafkaCluster cluster() {
    return broker()::bootstrapServers;
  }

  /** The shared broker itself, started on first call. */
  public static synchronized EmbeddedKafkaBroker broker() {
    if (broker == null) {
      Path dir;
      try {
        dir = Files.createTempDirectory("stepcast-it-kafka-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      EmbeddedKafkaBroker started = EmbeddedKafkaBroker.builder(dir).deleteOnClose(true).start();
      Runtime.getRuntime().addShutdownHook(new Thread(started::close, "embedded-kafka-shutdown"));
      broker = started;
    }
    return broker;
  }
}
