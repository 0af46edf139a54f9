package io.stepcast.cli;

import io.stepcast.kafka.EmbeddedKafkaBroker;
import java.nio.file.Path;

/** {@link LocalBroker} on {@link EmbeddedKafkaBroker}; loaded by name (broker runtime only). */
final class EmbeddedLocalBroker implements LocalBroker {
  private final EmbeddedKafkaBroker broker;

  EmbeddedLocalBroker(Path dataDir, int port) {
    this.broker = EmbeddedKafkaBroker.builder(dataDir).port(port).start();
  }

  @Override
  public String bootstrapServers() {
    return broker.bootstrapServers();
  }

  @Override
  public void close() {
    broker.close();
  }
}
