package io.stepcast.cli;

import java.lang.reflect.InvocationTargetException;
import java.nio.file.Path;

/**
 * The single-node broker {@code run} starts in its own JVM when no {@code --bootstrap-servers} is
 * given (a launcher convenience). The class that starts it ({@link EmbeddedLocalBroker}) lives in
 * the broker runtime, which the server image does not carry, so {@code run} reaches it by name and
 * only on that path: the server's classes never link against the broker's.
 */
interface LocalBroker extends AutoCloseable {
  /** The bootstrap servers of the running broker. */
  String bootstrapServers();

  /** Stops the broker. */
  @Override
  void close();

  /**
   * Checks that this installation carries the broker.
   *
   * @throws UserException naming the fix (give --bootstrap-servers) when it does not
   */
  static void checkAvailable() {
    OptionalRuntime.BROKER.require(
        "no --bootstrap-servers given and `run` would start an embedded Kafka broker: set"
            + " --bootstrap-servers or STEPCAST_BOOTSTRAP_SERVERS to your cluster");
  }

  /**
   * Starts the embedded broker.
   *
   * @throws UserException when this installation carries no broker
   */
  static LocalBroker start(Path dataDir, int port) {
    checkAvailable();
    try {
      return (LocalBroker)
          Class.forName("io.stepcast.cli.EmbeddedLocalBroker")
              .getDeclaredConstructor(Path.class, int.class)
              .newInstance(dataDir, port);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("the embedded broker did not start", e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("the embedded broker's class is not usable", e);
    }
  }
}
