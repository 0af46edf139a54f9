package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.EmbeddedKafkaBroker;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.TestHttp;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.train.PipelineModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readiness follows the brokers: an instance whose broker stops turns not ready within seconds and
 * says why, stays live (a restart would not bring the broker back), and turns ready again, and
 * forecasts, once the broker is back. Runs its own broker, since it stops it.
 */
class BrokerOutageIT {
  private static final Logger LOG = LoggerFactory.getLogger(BrokerOutageIT.class);

  @TempDir Path dir;

  @Test
  void shouldBeNotReadyWithTheReasonWhileTheBrokerIsDownAndReadyAgainOnceItIsBack()
      throws Exception {
    Path data = dir.resolve("kafka");
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder(data).start();
    int brokerPort = broker.port();
    int controllerPort = broker.controllerPort();
    TopologySpec spec =
        SpecLoader.load(
            Path.of("topologies/weather.yaml"),
            TestTopics.isolatedPipeline(TestTopics.unique("outage"), 1));
    Path models = Files.createDirectories(dir.resolve("models"));
    Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 5));
    try (ForecastService service =
        ForecastService.start(
            new ForecastService.Options(
                spec,
                broker.bootstrapServers(),
                dir.resolve("state"),
                0,
                null,
                models,
                Map.of()))) {
      int port = service.httpPort();
      awaitReady(port, Duration.ofSeconds(120));

      broker.close();
      List<Integer> liveStatuses = new ArrayList<>();
      TestHttp.Response[] last = new TestHttp.Response[1];
      Await.until(
          Duration.ofSeconds(90),
          () -> {
            liveStatuses.add(TestHttp.get(port, "/health/live").status());
            last[0] = TestHttp.get(port, "/health/ready");
            return last[0].status() == 503
                && last[0].json().get("reason").asText().contains("cannot reach the Kafka brokers");
          },
          () -> "not ready because of the broker, last: " + last[0]);
      assertThat(last[0].json().get("status").asText()).isEqualTo("NOT_READY");
      assertThat(last[0].json().get("brokerReachable").asBoolean()).isFalse();
      assertThat(last[0].json().get("reason").asText()).contains(broker.bootstrapServers());
      assertThat(liveStatuses).as("live throughout the outage").containsOnly(200);
      LOG.info("not ready while the broker is down: {}", last[0]);

      broker =
          EmbeddedKafkaBroker.builder(data).port(brokerPort).controllerPort(controllerPort).start();
      awaitReady(port, Duration.ofSeconds(180));
      assertThat(TestHttp.get(port, "/health/live").status()).isEqualTo(200);

      // Ready means progress: an event after the outage is forecast.
      TestRecords.produce(
          broker.bootstrapServers(),
          spec.topics().input(),
          List.of(
              Map.entry(
                  "seattle",
                  "{\"date\":\"2010-01-01T01:00:00\",\"pressure\":1020.1,\"temperature\":5.2,"
                      + "\"wind\":3.1}")));
      assertThat(
              TestRecords.consume(
                  broker.bootstrapServers(), spec.topics().output(), 1, Duration.ofSeconds(120)))
          .hasSize(1);
    } finally {
      broker.close();
    }
  }

  private static void awaitReady(int port, Duration timeout) {
    TestHttp.Response[] last = new TestHttp.Response[1];
    Await.until(
        timeout,
        () -> {
          last[0] = TestHttp.get(port, "/health/ready");
          return last[0].status() == 200;
        },
        () -> "ready, last: " + last[0]);
  }
}
