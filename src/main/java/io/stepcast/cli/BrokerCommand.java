package io.stepcast.cli;

import io.stepcast.config.ProcessChecks;
import io.stepcast.kafka.EmbeddedKafkaBroker;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code stepcast broker}: the embedded single-node KRaft broker on its own, for local trials. */
@Command(
    name = "broker",
    mixinStandardHelpOptions = true,
    description =
        "Starts a single-node KRaft Kafka broker (Kafka 4.3.1, in this JVM) and keeps it running until"
            + " interrupted. For trials and demos; use a real cluster in production.")
final class BrokerCommand implements Callable<Integer> {
  @Option(
      names = "--port",
      defaultValue = "9092",
      description = "Client port. Default: ${DEFAULT-VALUE}")
  int port;

  @Option(
      names = "--data-dir",
      defaultValue = "data/broker",
      description = "Data directory. Default: ${DEFAULT-VALUE}")
  Path dataDir;

  @Override
  public Integer call() throws Exception {
    ProcessChecks.portFree(port, "--port");
    ProcessChecks.writableDirectory(dataDir, "--data-dir");
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder(dataDir).port(port).start();
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  broker.close();
                  stop.countDown();
                },
                "stepcast-broker-shutdown"));
    System.out.println(
        "broker listening on "
            + broker.bootstrapServers()
            + " (data in "
            + dataDir
            + "); Ctrl-C stops it");
    stop.await();
    return 0;
  }
}
