package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.Topics;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.train.PipelineModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guarantee that matters most, tested the way it fails in production: {@code stepcast run} in
 * its own process, killed with SIGKILL in the middle of a stream that keeps arriving, then started
 * again. Every event must get exactly one forecast, identical to the forecast of a run that was
 * never interrupted (the state came back from the changelog; no step was applied twice). The killed
 * instance runs with batching on, the reference without.
 */
abstract class CrashRecoveryIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STATIONS = 4;
  private static final int HOURS = 600;
  private static final Instant T0 = Instant.parse("2010-01-01T00:00:00Z");

  @TempDir Path dir;

  protected abstract String bootstrapServers();

  private static Map<String, String> env(String base) {
    Map<String, String> env = TestTopics.isolatedPipeline(base, 2);
    // The killed instance's group membership must expire before its partitions move on.
    env.put("STEPCAST_KAFKA_SESSION_TIMEOUT_MS", "6000");
    return env;
  }

  private Process start(Map<String, String> env, Path log) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx512m",
            "-jar",
            "target/stepcast.jar",
            "run",
            "-t",
            "topologies/weather.yaml",
            "-b",
            bootstrapServers(),
            "--state-dir",
            dir.resolve("state").toString(),
            "--model-dir",
            dir.resolve("models").toString(),
            "--http-port",
            "0");
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return pb.start();
  }

  private static void assumeJar() {
    assumeTrue(
        Files.exists(Path.of("target/stepcast.jar")),
        "needs target/stepcast.jar (built by the package phase before the integration tests)");
  }

  private static List<Map.Entry<String, String>> events() {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (int i = 0; i < HOURS * STATIONS; i++) {
      out.add(event(i));
    }
    return out;
  }

  /** The i-th event: station i % STATIONS at hour i / STATIONS (times only ever increase). */
  private static Map.Entry<String, String> event(int i) {
    int h = i / STATIONS;
    int s = i % STATIONS;
    double temp = 8 + 6 * Math.sin(2 * Math.PI * h / 24.0 + s) + 0.01 * h;
    return Map.entry(
        "station-" + s,
        String.format(
            Locale.ROOT,
            "{\"date\":%d,\"pressure\":%.1f,\"temperature\":%.3f,\"wind\":%.1f}",
            T0.plusSeconds(3600L * h).toEpochMilli(),
            1010 + s + Math.cos(h / 10.0),
            temp,
            3 + Math.sin(h / 7.0)));
  }

  @Test
  void shouldNeitherLoseNorDuplicateAForecastWhenKilledMidStream() throws Exception {
    assumeJar();
    Path models = Files.createDirectories(dir.resolve("models"));
    String base = TestTopics.unique("crash");
    Map<String, String> env = env(base);
    TopologySpec spec = SpecLoader.load(Path.of("topologies/weather.yaml"), env);
    Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 42));
    List<Map.Entry<String, String>> events = events();

    // The reference: the same events through an uninterrupted in-process instance that steps one
    // event per call (batching is on by default).
    Map<String, String> referenceEnv = env(base + "-ref");
    referenceEnv.put("STEPCAST_PROCESSING_BATCH_SIZE", "1");
    TopologySpec reference = SpecLoader.load(Path.of("topologies/weather.yaml"), referenceEnv);
    Map<String, String> expected;
    try (ForecastService service =
        ForecastService.start(
            new ForecastService.Options(
                reference,
                bootstrapServers(),
                dir.resolve("ref-state"),
                0,
                null,
                models,
                Map.of()))) {
      TestRecords.produce(bootstrapServers(), reference.topics().input(), events);
      expected =
          ForecastServiceIT.byEvent(
              TestRecords.consume(
                  bootstrapServers(),
                  reference.topics().output(),
                  events.size(),
                  Duration.ofSeconds(90)));
    }

    // The killed instance steps batches of series (held back until just before each commit):
    // exactly-once must hold with batching on, and give the forecasts of one event at a time.
    env.put("STEPCAST_PROCESSING_BATCH_SIZE", "64");
    Path log = dir.resolve("run.log");
    Process first = start(env, log);
    // The second half of the stream waits for the kill: however fast the instance, the kill lands
    // with events still to come (and, from the pace, usually with some of the first half in
    // flight).
    CountDownLatch killed = new CountDownLatch(1);
    Thread producer =
        new Thread(
            () -> {
              try (KafkaProducer<String, String> p =
                  new KafkaProducer<>(TestRecords.producerConfig(bootstrapServers()))) {
                for (int i = 0; i < events.size(); i++) {
                  if (i == events.size() / 2) {
                    p.flush();
                    killed.await();
                  }
                  Map.Entry<String, String> e = events.get(i);
                  p.send(new ProducerRecord<>(spec.topics().input(), e.getKey(), e.getValue()));
                  if (i % 50 == 49) {
                    p.flush();
                    Thread.sleep(40); // about 1,000 events/s
                  }
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "crash-it-producer");
    producer.setDaemon(true); // never left waiting for a kill that a failed await skipped
    producer.start();
    Await.until(
        Duration.ofSeconds(90),
        () ->
            TestRecords.drain(bootstrapServers(), spec.topics().output(), Duration.ofMillis(300))
                    .size()
                >= events.size() / 4,
        () -> "a quarter of the forecasts before the kill (log: " + log + ")");
    first.destroyForcibly().waitFor();
    killed.countDown();
    int atKill =
        TestRecords.drain(bootstrapServers(), spec.topics().output(), Duration.ofMillis(500))
            .size();
    assertThat(atKill).isLessThan(events.size());

    Process second = start(env, log);
    try {
      producer.join();
      List<ConsumerRecord<String, String>> all =
          TestRecords.consume(
              bootstrapServers(), spec.topics().output(), events.size(), Duration.ofSeconds(120));
      List<ConsumerRecord<String, String>> settled =
          TestRecords.drain(bootstrapServers(), spec.topics().output(), Duration.ofSeconds(3));
      assertThat(settled).hasSize(events.size());
      Map<String, String> got = ForecastServiceIT.byEvent(all);
      assertThat(got.keySet()).isEqualTo(expected.keySet());
      for (Map.Entry<String, String> e : expected.entrySet()) {
        JsonNode want = JSON.readTree(e.getValue());
        JsonNode have = JSON.readTree(got.get(e.getKey()));
        assertThat(have.get("forecast").asDouble())
            .as(e.getKey())
            .isEqualTo(want.get("forecast").asDouble());
        assertThat(have.get("steps").asLong()).as(e.getKey()).isEqualTo(want.get("steps").asLong());
      }
    } finally {
      second.destroy();
      second.waitFor();
    }
  }

  /**
   * Static membership by default: a SIGKILLed {@code stepcast run} restarted at once on its state
   * directory rejoins as the same member and takes its partitions back without waiting for its old
   * session to expire (45 s by default, the figure without static membership). Three kills, each at
   * a different point of a stream that keeps arriving, with default settings.
   */
  @Test
  void shouldForecastAgainWithinSecondsOfASigkillWithDefaultSettings() throws Exception {
    assumeJar();
    Path models = Files.createDirectories(dir.resolve("models"));
    Map<String, String> env = TestTopics.isolatedPipeline(TestTopics.unique("restart"), 2);
    TopologySpec spec = SpecLoader.load(Path.of("topologies/weather.yaml"), env);
    Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 42));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong lastArrival = new AtomicLong();
    Thread producer =
        new Thread(
            () -> {
              try (KafkaProducer<String, String> p =
                  new KafkaProducer<>(TestRecords.producerConfig(bootstrapServers()))) {
                for (int i = 0; !stop.get(); i++) {
                  Map.Entry<String, String> e = event(i);
                  p.send(new ProducerRecord<>(spec.topics().input(), e.getKey(), e.getValue()));
                  if (i % 20 == 19) {
                    p.flush();
                    Thread.sleep(100); // about 200 events/s
                  }
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "restart-it-producer");
    Thread watcher =
        new Thread(
            () -> {
              Map<String, Object> config = TestRecords.consumerConfig(bootstrapServers());
              config.put("allow.auto.create.topics", false);
              try (KafkaConsumer<String, String> c = new KafkaConsumer<>(config)) {
                List<TopicPartition> parts = new ArrayList<>();
                while (parts.isEmpty() && !stop.get()) {
                  c.partitionsFor(spec.topics().output(), Duration.ofSeconds(10))
                      .forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
                }
                c.assign(parts);
                while (!stop.get()) {
                  if (!c.poll(Duration.ofMillis(50)).isEmpty()) {
                    lastArrival.set(System.nanoTime());
                  }
                }
              }
            },
            "restart-it-watcher");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
      Topics.ensure(admin, spec.topics().input(), 2, Map.of());
    }
    Path log = dir.resolve("restart.log");
    Process p = start(env, log);
    producer.start();
    watcher.start();
    List<Long> millis = new ArrayList<>();
    try {
      for (int kill = 0; kill < 3; kill++) {
        long from = System.nanoTime();
        Await.until(
            Duration.ofSeconds(120),
            () -> lastArrival.get() - from > TimeUnit.SECONDS.toNanos(3),
            () -> "forecasts flowing for 3 s (log: " + log + ")");
        p.destroyForcibly().waitFor();
        long killed = System.nanoTime();
        p = start(env, log);
        // Forecasts committed just before the kill reach the watcher within its 50 ms poll; no JVM
        // starts in a second, so an arrival 1 s after the kill is the new process's.
        Await.until(
            Duration.ofSeconds(120),
            () -> lastArrival.get() - killed > TimeUnit.SECONDS.toNanos(1),
            () -> "a forecast after the restart (log: " + log + ")");
        millis.add(TimeUnit.NANOSECONDS.toMillis(lastArrival.get() - killed));
      }
    } finally {
      stop.set(true);
      producer.join();
      watcher.join();
      p.destroy();
      p.waitFor();
    }
    System.err.println("first forecast after SIGKILL and restart, ms per kill: " + millis);
    // Without static membership the first restart waits out the old session: 45 s by default.
    assertThat(millis).allSatisfy(ms -> assertThat(ms).isLessThan(30_000));
    assertThat(millis.stream().sorted().toList().get(1)).isLessThan(15_000);
  }
}
