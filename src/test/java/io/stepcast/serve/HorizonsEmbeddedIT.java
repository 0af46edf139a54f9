package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.StepModel;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.PrometheusText;
import io.stepcast.testsupport.TestHttp;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.train.ServingReplay;
import io.stepcast.train.TrainingData;
import io.stepcast.train.TrainingListener;
import io.stepcast.train.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several targets and horizons end to end on the embedded KRaft broker, as a user runs them: a
 * model trained by the trainer ({@link TrainingRun}, as {@code stepcast train}) on the first part
 * of two daily business-day series with holidays, a real {@link ForecastService} (RocksDB, exactly
 * once, batching, HTTP), every event produced to the input topic. Each forecast record must carry
 * every target at every horizon with the time it is for on the series' calendar (checked against a
 * day-by-day walk with java.time: over weekends, holidays and a daylight-saving change), equal to
 * the offline replay through the serving code ({@link ServingReplay#allForecasts}) to the last bit,
 * each horizon scored against the forecast made that many events before; the per-horizon errors
 * must show on the real {@code /metrics} endpoint and the rolled {@code /series/{id}/forecast} must
 * skip the weekend and the holiday after the last event.
 */
class HorizonsEmbeddedIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
  private static final LocalTime CLOSE = LocalTime.of(16, 0);

  /**
   * NYSE holidays of the period: a Friday before a weekend (07-04), Mondays after one (09-01),
   * Thursdays before a Friday (11-27, 12-25) and the new year's day just after the data (01-01).
   */
  private static final Set<LocalDate> HOLIDAYS =
      Set.of(
          LocalDate.parse("2025-07-04"),
          LocalDate.parse("2025-09-01"),
          LocalDate.parse("2025-11-27"),
          LocalDate.parse("2025-12-25"),
          LocalDate.parse("2026-01-01"));

  private static final List<String> SERIES = List.of("acme", "globex");
  private static final List<String> TARGETS = List.of("close", "volume");
  private static final int[] HORIZONS = {1, 2, 5};
  private static final int TRAINED_EVENTS = 100;

  @TempDir Path dir;

  private static String bootstrapServers() {
    return EmbeddedKafkaSupport.cluster().bootstrapServers();
  }

  private Path specFile() throws Exception {
    Path f = dir.resolve("prices-horizons.yaml");
    Files.writeString(
        f,
        String.join(
            "\n",
            "name: prices-horizons",
            "seriesId:",
            "  from: key",
            "timestamp:",
            "  field: date",
            "  format: iso",
            "  zone: America/New_York",
            "  calendar: business_days",
            "  holidays: ['2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25', '2026-01-01']",
            "features:",
            "  - calendar: day_of_week",
            "target:",
            "  field: close",
            "  transform: difference",
            "  also:",
            "    - field: volume",
            "      transform: none",
            "  horizons: [1, 2, 5]",
            "model:",
            "  ringBuffer: 8",
            "training:",
            "  cell: lstm",
            "  hiddenSize: 8",
            "  maxEpochs: 4",
            "  chunkLength: 32",
            "  burnIn: 5",
            "  validationFraction: 0.2",
            "  testFraction: 0.1",
            "csv:",
            "  keyColumn: symbol",
            ""));
    return f;
  }

  private static boolean open(LocalDate d) {
    return d.getDayOfWeek() != DayOfWeek.SATURDAY
        && d.getDayOfWeek() != DayOfWeek.SUNDAY
        && !HOLIDAYS.contains(d);
  }

  /** The first {@code n} business days from {@code first} on, walked day by day. */
  private static List<LocalDate> businessDays(LocalDate first, int n) {
    List<LocalDate> out = new ArrayList<>();
    for (LocalDate d = first; out.size() < n; d = d.plusDays(1)) {
      if (open(d)) {
        out.add(d);
      }
    }
    return out;
  }

  private static long closeOf(LocalDate d) {
    return d.atTime(CLOSE).atZone(NEW_YORK).toInstant().toEpochMilli();
  }

  /** CSV of the given days of both series: a weekly pattern, a slow cycle and noise. */
  private static String csv(List<LocalDate> days) {
    StringBuilder sb = new StringBuilder("symbol,date,close,volume\n");
    for (String s : SERIES) {
      Random random = new Random(s.hashCode());
      double level = s.equals("acme") ? 100 : 40;
      for (int t = 0; t < days.size(); t++) {
        LocalDate d = days.get(t);
        int weekday = d.getDayOfWeek().getValue();
        level += 0.8 * Math.sin(t / 6.0) + (weekday == 1 ? 0.6 : -0.15) + random.nextGaussian() / 4;
        double volume = 1000 + 300 * (weekday == 5 ? 1 : 0) + 150 * Math.cos(t / 9.0);
        sb.append(s)
            .append(',')
            .append(d.atTime(CLOSE))
            .append(':')
            .append("00")
            .append(',')
            .append(Math.round(level * 100) / 100.0)
            .append(',')
            .append(Math.round(volume))
            .append('\n');
      }
    }
    return sb.toString();
  }

  @Test
  void shouldForecastEveryTargetAndHorizonOnTheBusinessDayCalendarAsTheOfflineReplay()
      throws Exception {
    Map<String, String> env = TestTopics.isolatedPipeline(TestTopics.unique("horizons"), 2);
    TopologySpec spec = SpecLoader.load(specFile(), env);
    // June to December 2025: the data ends on Wednesday 12-31, before the new year's holiday.
    List<LocalDate> days = businessDays(LocalDate.parse("2025-06-02"), 149);
    assertThat(days.get(days.size() - 1)).isEqualTo(LocalDate.parse("2025-12-31"));
    // Ten more business days, for the times of forecasts made near the end.
    List<LocalDate> calendar = businessDays(days.get(0), days.size() + 10);
    int n = days.size();

    Path history = dir.resolve("history.csv");
    Files.writeString(history, csv(days));
    Path trainedOn = dir.resolve("train.csv");
    Files.writeString(trainedOn, csv(days.subList(0, TRAINED_EVENTS)));
    TrainingRun.Result trained =
        TrainingRun.run(
            spec,
            TrainingData.fromCsv(spec, trainedOn),
            TrainingRun.config(spec, null, null),
            "prices-horizons-it",
            TrainingListener.NONE);
    Path models = Files.createDirectories(dir.resolve("models"));
    Files.write(models.resolve("trained.onnx"), trained.onnx());

    // The offline reference: every event of each series through the serving engine, one at a time.
    TrainingData all = TrainingData.fromCsv(spec, history);
    Map<String, List<Event>> events = new LinkedHashMap<>();
    Map<String, double[][]> offline = new HashMap<>();
    try (StepModel model = StepModel.load(trained.onnx(), ExecutionConfig.cpu())) {
      for (TrainingData.Series s : all.series()) {
        events.put(s.id(), s.events());
        offline.put(s.id(), ServingReplay.allForecasts(model, spec, s.events()));
      }
    }
    assertThat(events.keySet()).containsExactlyElementsOf(SERIES);

    List<Map.Entry<String, String>> records = new ArrayList<>();
    for (int t = 0; t < n; t++) {
      for (String s : SERIES) {
        Event e = events.get(s).get(t);
        records.add(
            Map.entry(
                s,
                "{\"date\":\""
                    + days.get(t).atTime(CLOSE)
                    + ":00\",\"close\":"
                    + e.target()
                    + ",\"volume\":"
                    + e.fields()[0]
                    + "}"));
      }
    }

    try (ForecastService service =
        ForecastService.start(
            new ForecastService.Options(
                spec, bootstrapServers(), dir.resolve("state"), 0, null, models, Map.of()))) {
      TestRecords.produce(bootstrapServers(), spec.topics().input(), records);
      List<ConsumerRecord<String, String>> out =
          TestRecords.consume(
              bootstrapServers(), spec.topics().output(), records.size(), Duration.ofSeconds(120));
      Map<String, JsonNode> byEvent = new HashMap<>();
      for (ConsumerRecord<String, String> r : out) {
        JsonNode node = JSON.readTree(r.value());
        String key = node.get("series").asText() + "@" + node.get("eventTime").asLong();
        assertThat(byEvent.put(key, node)).as("duplicate forecast for %s", key).isNull();
      }
      assertThat(byEvent).hasSize(records.size());

      Map<String, double[]> expectedAbs = new HashMap<>();
      for (String s : SERIES) {
        List<Event> ev = events.get(s);
        double[][] made = offline.get(s);
        for (int t = 0; t < n; t++) {
          JsonNode rec = byEvent.get(s + "@" + closeOf(days.get(t)));
          assertThat(rec).as("forecast of %s at %s", s, days.get(t)).isNotNull();
          assertThat(rec.get("model").asText()).isEqualTo("prices-horizons-it");
          assertThat(rec.get("forecast").asDouble()).isEqualTo(made[t][0]);
          JsonNode forecasts = rec.get("forecasts");
          assertThat(forecasts).hasSize(TARGETS.size() * HORIZONS.length);
          for (int j = 0; j < TARGETS.size(); j++) {
            double actual = j == 0 ? ev.get(t).target() : ev.get(t).fields()[0];
            assertThat(rec.get("actuals").get(TARGETS.get(j)).asDouble()).isEqualTo(actual);
            for (int k = 0; k < HORIZONS.length; k++) {
              int h = HORIZONS[k];
              int o = j * HORIZONS.length + k;
              JsonNode f = forecasts.get(o);
              String what = s + " " + days.get(t) + " " + TARGETS.get(j) + "@" + h;
              assertThat(f.get("target").asText()).as(what).isEqualTo(TARGETS.get(j));
              assertThat(f.get("horizon").asInt()).as(what).isEqualTo(h);
              if (t == 0) {
                assertThat(f.get("forTime").isNull()).as("%s: no interval yet", what).isTrue();
              } else {
                long forTime = closeOf(calendar.get(t + h));
                assertThat(f.get("forTime").asLong()).as(what).isEqualTo(forTime);
                assertThat(Instant.parse(f.get("for").asText()).toEpochMilli())
                    .as(what)
                    .isEqualTo(forTime);
              }
              assertThat(f.get("forecast").asDouble()).as(what).isEqualTo(made[t][o]);
              if (t < h) {
                assertThat(f.get("error").isNull()).as("%s: nothing to score yet", what).isTrue();
                assertThat(f.get("persistenceError").isNull()).as(what).isTrue();
              } else {
                double before = j == 0 ? ev.get(t - h).target() : ev.get(t - h).fields()[0];
                double error = actual - made[t - h][o];
                assertThat(f.get("error").asDouble()).as(what).isEqualTo(error);
                assertThat(f.get("persistenceError").asDouble())
                    .as(what)
                    .isEqualTo(actual - before);
                double[] sums =
                    expectedAbs.computeIfAbsent(TARGETS.get(j) + "@" + h, x -> new double[3]);
                sums[0]++;
                sums[1] += Math.abs(error);
                sums[2] += Math.abs(actual - before);
              }
            }
          }
        }
      }
      // The calendar at work in the records: a Friday's next day is Monday, a holiday is skipped.
      assertThat(nextDayForecastOf(byEvent, "acme", "2025-07-03")).isEqualTo("2025-07-07");
      assertThat(nextDayForecastOf(byEvent, "acme", "2025-08-29")).isEqualTo("2025-09-02");
      assertThat(nextDayForecastOf(byEvent, "globex", "2025-11-26")).isEqualTo("2025-11-28");
      assertThat(nextDayForecastOf(byEvent, "globex", "2025-11-28")).isEqualTo("2025-12-01");

      int port = service.httpPort();
      assertMetrics(port, spec.name(), expectedAbs, n);
      assertRolledForecast(port, calendar.subList(n, n + 6));
    }
  }

  /** The date the 1-event-ahead forecast of a series' event on {@code day} is for (New York). */
  private static String nextDayForecastOf(Map<String, JsonNode> byEvent, String s, String day) {
    JsonNode rec = byEvent.get(s + "@" + closeOf(LocalDate.parse(day)));
    long forTime = rec.get("forecasts").get(0).get("forTime").asLong();
    return Instant.ofEpochMilli(forTime).atZone(NEW_YORK).toLocalDate().toString();
  }

  /**
   * Every target and horizon's error summary on {@code /metrics}: as many errors as the records
   * scored, summing to the offline replay's absolute errors, for the model and for persistence.
   */
  private static void assertMetrics(
      int port, String pipeline, Map<String, double[]> expectedAbs, int n) {
    String name = "stepcast_forecast_horizon_abs_error";
    long furthest = (long) TARGETS.size() * SERIES.size() * (n - HORIZONS[HORIZONS.length - 1]);
    // Meters are recorded before a forecast is forwarded; wait for the scrape to show them all.
    Await.until(
        Duration.ofSeconds(60),
        () ->
            scrape(port)
                    .sum(
                        name + "_count",
                        Map.of("pipeline", pipeline, "horizon", "5", "forecaster", "model"))
                >= furthest,
        () -> "every 5-events-ahead error on /metrics: " + scrape(port).samples(name + "_count"));
    PrometheusText metrics = scrape(port);
    for (String target : TARGETS) {
      for (int h : HORIZONS) {
        double[] sums = expectedAbs.get(target + "@" + h);
        assertThat(sums[0]).isEqualTo(SERIES.size() * (n - h));
        Map<String, String> labels =
            Map.of(
                "pipeline",
                pipeline,
                "target",
                target,
                "horizon",
                Integer.toString(h),
                "forecaster",
                "model");
        assertThat(metrics.value(name + "_count", labels)).as(target + "@" + h).isEqualTo(sums[0]);
        assertThat(metrics.value(name + "_sum", labels))
            .as(target + "@" + h)
            .isCloseTo(sums[1], within(1e-9 * Math.max(1, sums[1])));
        Map<String, String> persistence = new HashMap<>(labels);
        persistence.put("forecaster", "persistence");
        assertThat(metrics.value(name + "_count", persistence)).isEqualTo(sums[0]);
        assertThat(metrics.value(name + "_sum", persistence))
            .as(target + "@" + h + " persistence")
            .isCloseTo(sums[2], within(1e-9 * Math.max(1, sums[2])));
      }
    }
  }

  private static PrometheusText scrape(int port) {
    TestHttp.Response r = TestHttp.get(port, "/metrics");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return PrometheusText.parse(r.body());
  }

  /**
   * The state API's rolled forecast from the last event (Wednesday 2025-12-31) follows the same
   * calendar: Friday 01-02 (01-01 is a holiday), then Monday 01-05 (the weekend) on.
   */
  private static void assertRolledForecast(int port, List<LocalDate> expected) {
    String path = "/series/acme/forecast?steps=" + expected.size();
    TestHttp.Response[] last = new TestHttp.Response[1];
    // 503 while ownership settles (Retry-After): ask again.
    Await.until(
        Duration.ofSeconds(60),
        () -> (last[0] = TestHttp.get(port, path)).status() == 200,
        () -> "GET " + path + " to answer 200, got " + last[0]);
    JsonNode roll = last[0].json().get("forecasts");
    assertThat(roll).hasSize(expected.size());
    assertThat(expected.get(0)).isEqualTo(LocalDate.parse("2026-01-02"));
    for (int k = 0; k < expected.size(); k++) {
      assertThat(roll.get(k).get("eventTime").asLong())
          .as("step %d", k + 1)
          .isEqualTo(closeOf(expected.get(k)));
      assertThat(roll.get(k).get("targets").get("volume").isNumber()).isTrue();
    }
  }
}
