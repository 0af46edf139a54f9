package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.Csv;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.TestHttp;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.topology.ForecastTopology;
import io.stepcast.topology.Rebalancing;
import io.stepcast.train.PipelineModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scale-out of a running pipeline: one instance has processed enough events that every changelog
 * partition is past Kafka Streams' default {@code acceptable.recovery.lag} (10 000 offsets), which
 * used to leave a second instance without a partition until a probing rebalance ten minutes later.
 * With stepcast's settings ({@link Rebalancing}) a second instance holds active tasks, restored,
 * within a generous bound, and serves the series it took over with the state the first instance
 * built: their step counts continue.
 */
class ScaleOutIT {
  private static final Logger LOG = LoggerFactory.getLogger(ScaleOutIT.class);
  private static final int SERIES = 240;
  private static final int EVENTS_PER_SERIES = 200;
  private static final int PARTITIONS = 4;
  // A probing rebalance (60 s) plus restore and rebalances, on a loaded 2-core machine.
  private static final Duration TAKEOVER_BOUND = Duration.ofSeconds(180);

  @TempDir Path dir;

  private static String bootstrapServers() {
    return EmbeddedKafkaSupport.cluster().bootstrapServers();
  }

  private ForecastService start(TopologySpec spec, Path models, String name, int port)
      throws Exception {
    return ForecastService.start(
        new ForecastService.Options(
            spec,
            bootstrapServers(),
            dir.resolve("state-" + name),
            port,
            "localhost:" + port,
            models,
            Map.of("session.timeout.ms", "10000", "heartbeat.interval.ms", "2000")));
  }

  private static String series(int s) {
    return "station-" + s;
  }

  /** Events {@code from} (inclusive) to {@code to} (exclusive) of every series, hour by hour. */
  private static List<Map.Entry<String, String>> events(Csv csv, int from, int to) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      Csv.Row r = csv.rows().get(i);
      for (int s = 0; s < SERIES; s++) {
        out.add(
            Map.entry(
                series(s),
                String.format(
                    Locale.ROOT,
                    "{\"date\":\"%s\",\"pressure\":%s,\"temperature\":%s,\"wind\":%s}",
                    r.get("date"),
                    r.get("pressure"),
                    r.getDouble("temperature") + 0.1 * s,
                    r.get("wind"))));
      }
    }
    return out;
  }

  private static Set<String> activeTasks(ForecastService s) {
    Set<String> tasks = new TreeSet<>();
    for (ThreadMetadata t : s.streams().metadataForLocalThreads()) {
      t.activeTasks().forEach(task -> tasks.add(task.taskId().toString()));
    }
    return tasks;
  }

  /** The end offsets of the pipeline's changelog: what a new instance has to restore. */
  private static long changelogEndOffsets(TopologySpec spec) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
      String changelog = spec.applicationId() + "-" + ForecastTopology.STATE_STORE + "-changelog";
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < PARTITIONS; p++) {
        latest.put(new TopicPartition(changelog, p), OffsetSpec.latest());
      }
      long sum = 0;
      for (var e : admin.listOffsets(latest).all().get().values()) {
        sum += e.offset();
      }
      return sum;
    }
  }

  @Test
  void shouldGiveASecondInstancePartitionsWithTheirStateWithinTheBound() throws Exception {
    Map<String, String> env =
        new HashMap<>(TestTopics.isolatedPipeline(TestTopics.unique("scale-out"), PARTITIONS));
    // No record cache: every event writes the changelog, so the restore a new instance faces is
    // past Kafka's default acceptable.recovery.lag (with the cache, one write per series per
    // commit leaves a few hundred records per partition and the test would prove nothing).
    env.put("STEPCAST_PROCESSING_CACHE_MAX_BYTES", "0");
    TopologySpec spec = SpecLoader.load(Path.of("topologies/weather.yaml"), env);
    Path models = Files.createDirectories(dir.resolve("models"));
    Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 5));
    Csv csv = Csv.read(Path.of("samples/seattle-weather-hourly-normals.csv"));
    int portA = TestHttp.freePort();
    int portB = TestHttp.freePort();
    try (ForecastService a = start(spec, models, "a", portA)) {
      Await.until(
          Duration.ofSeconds(90),
          () -> a.streams().state() == KafkaStreams.State.RUNNING && activeTasks(a).size() == 4,
          () -> "instance a to run all four tasks");
      List<Map.Entry<String, String>> first = events(csv, 0, EVENTS_PER_SERIES);
      TestRecords.produce(bootstrapServers(), spec.topics().input(), first);
      TestRecords.consume(
          bootstrapServers(), spec.topics().output(), first.size(), Duration.ofSeconds(300));
      long changelog = changelogEndOffsets(spec);
      // Past Kafka's default acceptable.recovery.lag on every partition: with Kafka's defaults a
      // new instance would wait for a probing rebalance (10 minutes) before taking any task.
      assertThat(changelog / PARTITIONS).isGreaterThan(10_000);

      long started = System.nanoTime();
      try (ForecastService b = start(spec, models, "b", portB)) {
        Await.until(
            TAKEOVER_BOUND,
            () ->
                b.streams().state() == KafkaStreams.State.RUNNING
                    && a.streams().state() == KafkaStreams.State.RUNNING
                    && !activeTasks(b).isEmpty(),
            () ->
                "instance b to hold active tasks; b has "
                    + activeTasks(b)
                    + ", a "
                    + activeTasks(a));
        double seconds = (System.nanoTime() - started) / 1e9;
        LOG.info(
            "scale-out: instance b held active tasks {} (a kept {}) {} s after it started;"
                + " changelog {} offsets over {} partitions",
            activeTasks(b),
            activeTasks(a),
            String.format(Locale.ROOT, "%.1f", seconds),
            changelog,
            PARTITIONS);
        assertThat(activeTasks(a)).as("a gave tasks away").hasSizeLessThan(4);

        // b serves its series with the state a built: one more event each continues the count.
        TestRecords.produce(
            bootstrapServers(),
            spec.topics().input(),
            events(csv, EVENTS_PER_SERIES, EVENTS_PER_SERIES + 1));
        int checked = 0;
        for (int s = 0; s < SERIES; s++) {
          String id = series(s);
          KeyQueryMetadata meta =
              b.streams()
                  .queryMetadataForKey(
                      ForecastTopology.STATE_STORE, id, Serdes.String().serializer());
          if (meta.activeHost().port() != portB) {
            continue;
          }
          Await.until(
              Duration.ofSeconds(120),
              () -> {
                TestHttp.Response r = TestHttp.get(portB, "/series/" + id);
                return r.status() == 200 && r.json().get("steps").asLong() == EVENTS_PER_SERIES + 1;
              },
              () -> id + " on instance b to have " + (EVENTS_PER_SERIES + 1) + " steps");
          assertThat(TestHttp.get(portB, "/series/" + id).header(HttpApi.OWNER_HEADER))
              .as("%s answered by b itself", id)
              .isEmpty();
          checked++;
        }
        assertThat(checked).as("series served by instance b").isGreaterThan(0);
        LOG.info("scale-out: instance b continued the state of {} of {} series", checked, SERIES);
      }
    }
  }
}
