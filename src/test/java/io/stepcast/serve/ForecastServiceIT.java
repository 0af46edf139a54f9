package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.Csv;
import io.stepcast.kafka.ModelTopic;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.topology.DeadLetters;
import io.stepcast.train.PipelineModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forecaster on a real broker: one forecast per good event, every bad one on the dead-letter
 * topic, and a stop and restart mid-stream (even onto an empty state directory, restoring from the
 * changelog) that gives exactly the forecasts of an uninterrupted run.
 */
abstract class ForecastServiceIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  protected abstract String bootstrapServers();

  /** The weather spec with topics and application id of this test's own. */
  private TopologySpec spec(String name) throws Exception {
    String base = TestTopics.unique(name);
    return SpecLoader.load(
        Path.of("topologies/weather.yaml"), TestTopics.isolatedPipeline(base, 2));
  }

  private ForecastService start(TopologySpec spec, Path stateDir) throws Exception {
    Path models = dir.resolve("models");
    if (!Files.exists(models)) {
      Files.createDirectories(models);
      Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 42));
    }
    return ForecastService.start(
        new ForecastService.Options(spec, bootstrapServers(), stateDir, 0, null, models, Map.of()));
  }

  /** Weather rows of the sample data as (key, JSON) events for two stations. */
  private static List<Map.Entry<String, String>> events(int perStation) throws Exception {
    Csv csv = Csv.read(Path.of("samples/seattle-weather-hourly-normals.csv"));
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (int i = 0; i < perStation; i++) {
      Csv.Row r = csv.rows().get(i);
      for (String station : List.of("north", "south")) {
        double offset = station.equals("north") ? 0 : 2.5;
        out.add(
            new AbstractMap.SimpleEntry<>(
                station,
                String.format(
                    java.util.Locale.ROOT,
                    "{\"date\":\"%s\",\"pressure\":%s,\"temperature\":%s,\"wind\":%s}",
                    r.get("date"),
                    r.get("pressure"),
                    r.getDouble("temperature") + offset,
                    r.get("wind"))));
      }
    }
    return out;
  }

  /** Forecast records by series and event time; fails on a duplicate. */
  static Map<String, String> byEvent(List<ConsumerRecord<String, String>> records)
      throws Exception {
    Map<String, String> out = new HashMap<>();
    for (ConsumerRecord<String, String> r : records) {
      JsonNode n = JSON.readTree(r.value());
      String key = n.get("series").asText() + "@" + n.get("eventTime").asLong();
      assertThat(out.put(key, r.value())).as("duplicate forecast for %s", key).isNull();
    }
    return out;
  }

  @Test
  void shouldForecastEveryGoodEventOnceAndDeadLetterEveryBadOne() throws Exception {
    TopologySpec spec = spec("good-bad");
    List<Map.Entry<String, String>> good = events(30);
    try (ForecastService service = start(spec, dir.resolve("state"))) {
      TestRecords.produce(bootstrapServers(), spec.topics().input(), good);
      TestRecords.produce(
          bootstrapServers(),
          spec.topics().input(),
          List.of(
              Map.entry("north", "{\"date\": not json"),
              Map.entry("north", "{\"date\":\"2010-01-01T05:00:00\",\"temperature\":\"warm\"}"),
              Map.entry("south", "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":1.0}")));
      List<ConsumerRecord<String, String>> forecasts =
          TestRecords.consume(
              bootstrapServers(), spec.topics().output(), good.size(), Duration.ofSeconds(60));
      List<ConsumerRecord<String, String>> dead =
          TestRecords.consume(
              bootstrapServers(), spec.topics().deadLetter(), 3, Duration.ofSeconds(30));
      assertThat(byEvent(forecasts)).hasSize(good.size());
      assertThat(forecasts)
          .allSatisfy(r -> assertThat(r.value()).contains("\"model\":\"weather-fixed-42\""));
      Set<String> reasons = new HashSet<>();
      for (ConsumerRecord<String, String> d : dead) {
        reasons.add(DeadLetters.read(d.headers(), DeadLetters.REASON));
        assertThat(DeadLetters.read(d.headers(), DeadLetters.SOURCE_TOPIC))
            .isEqualTo(spec.topics().input());
      }
      assertThat(reasons).containsExactlyInAnyOrder("malformed_json", "non_numeric", "late");
      assertThat(dead).extracting(ConsumerRecord::value).contains("{\"date\": not json");
    }
  }

  @Test
  void shouldGiveTheForecastsOfAnUninterruptedRunAfterARestartMidStream() throws Exception {
    List<Map.Entry<String, String>> events = events(60);
    List<Map.Entry<String, String>> first = events.subList(0, 50);
    List<Map.Entry<String, String>> rest = events.subList(50, events.size());

    TopologySpec straight = spec("straight");
    Map<String, String> expected;
    try (ForecastService service = start(straight, dir.resolve("state-straight"))) {
      TestRecords.produce(bootstrapServers(), straight.topics().input(), events);
      expected =
          byEvent(
              TestRecords.consume(
                  bootstrapServers(),
                  straight.topics().output(),
                  events.size(),
                  Duration.ofSeconds(60)));
    }

    TopologySpec restarted = spec("restarted");
    try (ForecastService service = start(restarted, dir.resolve("state-a"))) {
      TestRecords.produce(bootstrapServers(), restarted.topics().input(), first);
      TestRecords.consume(
          bootstrapServers(), restarted.topics().output(), first.size(), Duration.ofSeconds(60));
    }
    // Restart on an empty state directory: the state must come back from the changelog.
    try (ForecastService service = start(restarted, dir.resolve("state-b"))) {
      TestRecords.produce(bootstrapServers(), restarted.topics().input(), rest);
      List<ConsumerRecord<String, String>> all =
          TestRecords.consume(
              bootstrapServers(),
              restarted.topics().output(),
              events.size(),
              Duration.ofSeconds(90));
      // Nothing more may arrive: a duplicate would show up as an extra record.
      List<ConsumerRecord<String, String>> settled =
          TestRecords.drain(bootstrapServers(), restarted.topics().output(), Duration.ofSeconds(3));
      assertThat(settled).hasSize(events.size());
      assertThat(byEvent(all)).isEqualTo(expected);
    }
  }

  @Test
  void shouldSwapToAModelPublishedMidStreamWithoutLosingAForecast() throws Exception {
    TopologySpec spec = spec("swap");
    List<Map.Entry<String, String>> events = events(40);
    // 30 events per station before the swap: more than the model's burn-in of 24.
    List<Map.Entry<String, String>> first = events.subList(0, 60);
    List<Map.Entry<String, String>> rest = events.subList(60, events.size());
    try (ForecastService service = start(spec, dir.resolve("state"))) {
      TestRecords.produce(bootstrapServers(), spec.topics().input(), first);
      TestRecords.consume(
          bootstrapServers(), spec.topics().output(), first.size(), Duration.ofSeconds(60));

      // A broken model on the topic is refused; the fixed one keeps serving.
      ModelTopic.publish(
          bootstrapServers(),
          Map.of(),
          spec.topics().model(),
          spec.name(),
          "broken",
          new byte[] {1, 2, 3});
      Await.until(
          Duration.ofSeconds(30),
          () -> service.registry().lastRefusal() != null,
          () -> "the broken model to be refused");
      assertThat(service.registry().current().version()).isEqualTo("weather-fixed-42");

      ModelTopic.publish(
          bootstrapServers(),
          Map.of(),
          spec.topics().model(),
          spec.name(),
          "weather-fixed-7",
          PipelineModels.fixed(spec, 7));
      Await.until(
          Duration.ofSeconds(30),
          () -> "weather-fixed-7".equals(service.registry().current().version()),
          () -> "the published model to be swapped in");
      TestRecords.produce(bootstrapServers(), spec.topics().input(), rest);
      List<ConsumerRecord<String, String>> all =
          TestRecords.consume(
              bootstrapServers(), spec.topics().output(), events.size(), Duration.ofSeconds(60));
      Map<String, String> byEvent = byEvent(all);
      assertThat(byEvent).hasSize(events.size());
      long before =
          byEvent.values().stream()
              .filter(v -> v.contains("\"model\":\"weather-fixed-42\""))
              .count();
      long after =
          byEvent.values().stream()
              .filter(v -> v.contains("\"model\":\"weather-fixed-7\""))
              .count();
      assertThat(before).isEqualTo(first.size());
      assertThat(after).isEqualTo(rest.size());
      // Both series were rebuilt for the new model from their ring buffers: warm at once (a reset
      // would start them cold).
      for (ConsumerRecord<String, String> r : all) {
        JsonNode n = JSON.readTree(r.value());
        if (n.get("model").asText().equals("weather-fixed-7")) {
          assertThat(n.get("warm").asBoolean()).isTrue();
        }
      }
    }
  }
}
