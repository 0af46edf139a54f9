package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.Csv;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ExecutionProvider;
import io.stepcast.model.OrtSupport;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.PrometheusText;
import io.stepcast.testsupport.Promtool;
import io.stepcast.testsupport.TestHttp;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.train.PipelineModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running instance on a real broker, scraped over HTTP: the stepcast meters count what the
 * instance did (forecasts, dead letters by reason, steps, errors against persistence), the Kafka
 * Streams and JVM binders are there, and Prometheus' own checker accepts the text. Health follows
 * the instance through waiting for a model, starting and running.
 */
abstract class MetricsEndpointIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PER_STATION = 30;
  private static final List<String> STATIONS = List.of("north", "south");
  private static final Path DASHBOARD = Path.of("grafana", "stepcast-dashboard.json");
  private static final Path REFERENCE = Path.of("grafana", "metrics-reference.txt");
  private static final Path RULES = Path.of("prometheus", "stepcast-rules.yaml");

  /** Series Prometheus writes per target itself, never in a scrape. */
  private static final Set<String> SCRAPE_SERIES = Set.of("up");

  /**
   * Metrics an alert uses that the application does not expose yet (the model sources' health); the
   * same list is PENDING_METRICS in .ci/helm-check.sh. Empty both once they are exposed.
   */
  private static final Set<String> PENDING = Set.of("stepcast_model_source_up");

  /** A metric name in PromQL: an identifier followed by label matchers or a range. */
  private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*[{\\[]");

  private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((\\w+)");
  private static final String REFERENCE_HEADER =
      "# Metrics as Prometheus shows them, with their label names, from a real scrape of a running\n"
          + "# instance (MetricsEndpointIT): every stepcast_* metric, and the other metrics that\n"
          + "# grafana/stepcast-dashboard.json and the alerts (prometheus/stepcast-rules.yaml) query.\n"
          + "# .ci/k8s-validate/promql-check.mjs checks the dashboard and the alerts against this\n"
          + "# file; MetricsEndpointIT checks this file against the scrape.\n"
          + "# Regenerate: ./mvnw verify -Dit.test=MetricsEndpointEmbeddedIT"
          + " -Dstepcast.updateMetricsReference=true\n";

  @TempDir Path dir;

  protected abstract String bootstrapServers();

  private TopologySpec spec(String name) {
    Map<String, String> env = TestTopics.isolatedPipeline(TestTopics.unique(name), 2);
    // CUDA asked for with a fallback: on a machine without it the instance runs on the CPU and
    // says so in stepcast_execution_info.
    env.put("STEPCAST_EXECUTION_PROVIDER", "cuda");
    env.put("STEPCAST_EXECUTION_FALLBACK_TO_CPU", "true");
    return SpecLoader.load(Path.of("topologies/weather.yaml"), env);
  }

  /** Sample weather rows as events of two stations, the south one 2.5 degrees warmer. */
  private static List<Map.Entry<String, String>> events() throws Exception {
    Csv csv = Csv.read(Path.of("samples/seattle-weather-hourly-normals.csv"));
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (int i = 0; i < PER_STATION; i++) {
      Csv.Row r = csv.rows().get(i);
      for (String station : STATIONS) {
        out.add(
            Map.entry(
                station,
                String.format(
                    Locale.ROOT,
                    "{\"date\":\"%s\",\"pressure\":%s,\"temperature\":%s,\"wind\":%s}",
                    r.get("date"),
                    r.get("pressure"),
                    r.getDouble("temperature") + (station.equals("north") ? 0 : 2.5),
                    r.get("wind"))));
      }
    }
    return out;
  }

  private static JsonNode waitForStatus(int port, String path, int status) {
    TestHttp.Response[] last = new TestHttp.Response[1];
    Await.until(
        Duration.ofSeconds(60),
        () -> {
          try {
            return (last[0] = TestHttp.get(port, path)).status() == status;
          } catch (UncheckedIOException e) {
            return false; // not listening yet
          }
        },
        () -> path + " to answer " + status + ", last: " + last[0]);
    return last[0].json();
  }

  @Test
  void shouldReportLiveButNotReadyWhileWaitingForAModelAndReadyOnceRunning() throws Exception {
    TopologySpec spec = spec("health");
    Path models = Files.createDirectories(dir.resolve("models"));
    int port = TestHttp.freePort();
    CompletableFuture<ForecastService> starting =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return ForecastService.start(
                    new ForecastService.Options(
                        spec,
                        bootstrapServers(),
                        dir.resolve("state"),
                        port,
                        null,
                        models,
                        Map.of()));
              } catch (Exception e) {
                throw new CompletionException(e);
              }
            });
    try {
      // No model yet: the HTTP API is up, the instance is alive but not ready, and says why.
      JsonNode waiting = waitForStatus(port, "/health/live", 200);
      assertThat(waiting.get("status").asText()).isEqualTo("UP");
      TestHttp.Response notReady = TestHttp.get(port, "/health/ready");
      assertThat(notReady.status()).isEqualTo(503);
      assertThat(notReady.json().get("model").isNull()).isTrue();
      assertThat(notReady.json().get("reason").asText()).contains("waiting for a model");
      assertThat(TestHttp.get(port, "/series/north").status()).isEqualTo(503);
      assertThat(TestHttp.get(port, "/metrics").body())
          .contains("stepcast_events_total")
          .doesNotContain("stepcast_model_info{");
      assertThat(starting).isNotDone();

      // A model arrives: the instance starts its streams and becomes ready.
      Path tmp = dir.resolve("fixed.onnx.tmp");
      Files.write(tmp, PipelineModels.fixed(spec, 7));
      Files.move(tmp, models.resolve("fixed.onnx"), StandardCopyOption.ATOMIC_MOVE);
      try (ForecastService service = starting.get(120, TimeUnit.SECONDS)) {
        // Every answer on the way must be consistent: 200 exactly when RUNNING with a model.
        TestHttp.Response[] last = new TestHttp.Response[1];
        Await.until(
            Duration.ofSeconds(60),
            () -> {
              TestHttp.Response r = TestHttp.get(port, "/health/ready");
              JsonNode n = r.json();
              boolean running = n.get("streams").asText().equals("RUNNING");
              boolean model = !n.get("model").isNull();
              assertThat(r.status()).as("%s", r).isEqualTo(running && model ? 200 : 503);
              last[0] = r;
              return r.status() == 200;
            },
            () -> "ready, last: " + last[0]);
        assertThat(last[0].json().get("model").asText()).isEqualTo("weather-fixed-7");
        assertThat(TestHttp.get(port, "/health/live").status()).isEqualTo(200);
        assertThat(service.streams().state().name()).isEqualTo("RUNNING");
      }
      // Closed: nothing listens any more.
      assertThat(isListening(port)).isFalse();
    } finally {
      // On an early failure the start is still waiting for a model: let it finish, then close.
      if (!starting.isDone()) {
        Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 7));
      }
      starting.handle((s, e) -> s).get(120, TimeUnit.SECONDS).close();
    }
  }

  private static boolean isListening(int port) {
    try (Socket s = new Socket("localhost", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void shouldExposeEveryStepcastMeterWithTheValuesOfWhatTheInstanceDid() throws Exception {
    TopologySpec spec = spec("metrics");
    Path models = Files.createDirectories(dir.resolve("models"));
    Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 7));
    List<Map.Entry<String, String>> good = events();
    try (ForecastService service =
        ForecastService.start(
            new ForecastService.Options(
                spec, bootstrapServers(), dir.resolve("state"), 0, null, models, Map.of()))) {
      int port = service.httpPort();
      waitForStatus(port, "/health/ready", 200);
      TestRecords.produce(bootstrapServers(), spec.topics().input(), good);
      TestRecords.produce(
          bootstrapServers(),
          spec.topics().input(),
          List.of(
              Map.entry("north", "{\"date\": not json"),
              Map.entry("south", "[1, 2, 3"),
              Map.entry("north", "{\"date\":\"2010-01-02T05:00:00\",\"temperature\":\"warm\"}"),
              Map.entry("south", "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":1.0}")));
      List<ConsumerRecord<String, String>> forecasts =
          TestRecords.consume(
              bootstrapServers(), spec.topics().output(), good.size(), Duration.ofSeconds(60));
      TestRecords.consume(
          bootstrapServers(), spec.topics().deadLetter(), 4, Duration.ofSeconds(30));

      // A collection, so that the JVM's GC pause timer exists before the scrape.
      System.gc();
      Await.until(
          Duration.ofSeconds(20),
          () -> TestHttp.get(port, "/metrics").body().contains("jvm_gc_pause_seconds_count"),
          () -> "a GC pause in the metrics");
      TestHttp.Response response = TestHttp.get(port, "/metrics");
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain; version=0.0.4"));
      String scrape = response.body();
      Files.createDirectories(Path.of("target"));
      Files.writeString(Path.of("target", "metrics-endpoint-it.prom"), scrape);
      PrometheusText m = PrometheusText.parse(scrape);
      Map<String, String> p = Map.of("pipeline", "weather", "application", "stepcast");

      // Events by outcome and reason; nothing skipped under carry_forward.
      assertThat(m.value("stepcast_events_total", with(p, "outcome", "forecast")))
          .isEqualTo(good.size());
      assertThat(
              m.value(
                  "stepcast_events_total",
                  with(p, "outcome", "dead_letter", "reason", "malformed_json")))
          .isEqualTo(2);
      assertThat(
              m.value(
                  "stepcast_events_total",
                  with(p, "outcome", "dead_letter", "reason", "non_numeric")))
          .isEqualTo(1);
      assertThat(
              m.value("stepcast_events_total", with(p, "outcome", "dead_letter", "reason", "late")))
          .isEqualTo(1);
      assertThat(m.sum("stepcast_events_total", with(p, "outcome", "dead_letter"))).isEqualTo(4);
      assertThat(m.sum("stepcast_events_total", with(p, "outcome", "skipped"))).isZero();
      assertThat(m.types()).containsEntry("stepcast_events_total", "counter");

      // ONNX Runtime calls, as a histogram with buckets; with batching (on by default) a call may
      // step several series, but every forecast is stepped exactly once.
      assertThat(m.types()).containsEntry("stepcast_step_latency_seconds", "histogram");
      double steps = m.value("stepcast_step_latency_seconds_count", p);
      assertThat(steps).isBetween(1.0, (double) good.size());
      List<PrometheusText.Sample> buckets = m.samples("stepcast_step_latency_seconds_bucket", p);
      assertThat(buckets).hasSizeGreaterThan(10);
      double previous = 0;
      for (PrometheusText.Sample b : buckets) {
        assertThat(b.value())
            .as("cumulative bucket le=%s", b.labels().get("le"))
            .isGreaterThanOrEqualTo(previous);
        previous = b.value();
      }
      assertThat(m.value("stepcast_step_latency_seconds_bucket", with(p, "le", "+Inf")))
          .isEqualTo(steps);
      double meanSeconds = m.value("stepcast_step_latency_seconds_sum", p) / steps;
      assertThat(meanSeconds).isBetween(1e-7, 0.1);
      assertThat(m.value("stepcast_step_batch_size_count", p)).isEqualTo(steps);
      assertThat(m.value("stepcast_step_batch_size_sum", p)).isEqualTo(good.size());

      // The model in use, no swaps (the first model is not one), refusals or burn-ins.
      assertThat(m.value("stepcast_model_info", with(p, "version", "weather-fixed-7")))
          .isEqualTo(1);
      assertThat(m.samples("stepcast_model_info")).hasSize(1);
      assertThat(m.value("stepcast_model_swaps_total", p)).isZero();
      assertThat(m.value("stepcast_model_refusals_total", p)).isZero();
      assertThat(m.value("stepcast_model_burnins_total", p)).isZero();
      // What CUDA gives on this machine, found independently: CPU unless there is a GPU.
      ExecutionProvider expected = OrtSupport.probe(ExecutionConfig.cuda(0, true));
      assertThat(service.provider()).isEqualTo(expected);
      assertThat(
              m.value(
                  "stepcast_execution_info",
                  with(
                      p,
                      "requested",
                      "cuda",
                      "provider",
                      expected.name().toLowerCase(Locale.ROOT))))
          .isEqualTo(1);

      // Live error: every forecast but each station's first is scored, by the model and by
      // persistence; the sums are those of the errors in the output and of the input's changes.
      double scored = good.size() - STATIONS.size();
      Map<String, String> model = with(p, "forecaster", "model");
      Map<String, String> persistence = with(p, "forecaster", "persistence");
      assertThat(m.value("stepcast_forecast_abs_error_count", model)).isEqualTo(scored);
      assertThat(m.value("stepcast_forecast_abs_error_count", persistence)).isEqualTo(scored);
      double modelSum = 0;
      for (ConsumerRecord<String, String> r : forecasts) {
        JsonNode f = JSON.readTree(r.value());
        if (!f.get("error").isNull()) {
          modelSum += Math.abs(f.get("error").asDouble());
        }
      }
      assertThat(m.value("stepcast_forecast_abs_error_sum", model))
          .isCloseTo(modelSum, within(1e-6 * (1 + modelSum)));
      assertThat(m.value("stepcast_forecast_abs_error_sum", persistence))
          .isCloseTo(persistenceSum(good), within(1e-6 * (1 + modelSum)));
      assertThat(modelSum).isPositive();

      // Series held in state: the two stations.
      assertThat(m.value("stepcast_series", p)).isEqualTo(STATIONS.size());

      // Kafka Streams client metrics (KafkaStreamsMetrics) and JVM metrics.
      assertThat(m.sum("kafka_stream_thread_process_total", Map.of())).isGreaterThan(0);
      assertThat(m.samples("kafka_consumer_fetch_manager_records_lag_max")).isNotEmpty();
      assertThat(m.sum("jvm_memory_used_bytes", Map.of("area", "heap"))).isPositive();
      assertThat(m.sum("jvm_threads_live_threads", Map.of())).isPositive();
      assertThat(m.samples("jvm_gc_memory_allocated_bytes_total")).isNotEmpty();
      assertThat(m.sum("process_uptime_seconds", Map.of())).isPositive();
      assertThat(m.sum("process_cpu_seconds_total", Map.of())).isPositive();
      assertThat(m.sum("system_cpus", Map.of())).isPositive();
      assertThat(m.sum("kafka_consumer_connections", Map.of())).isPositive();
      assertThat(m.types()).doesNotContainKeys("process_cpu_time_ns_total", "system_cpu_count");

      // The dashboard queries metrics this instance has, as recorded in the reference file.
      checkMetricsReference(m);

      // Every family has HELP and TYPE; Prometheus' own checker has nothing to say.
      for (PrometheusText.Sample s : m.samples()) {
        assertThat(family(m, s.name())).as("TYPE of %s", s.name()).isNotNull();
      }
      Path promtool = Promtool.require();
      Promtool.Result check = Promtool.checkMetrics(promtool, scrape);
      assertThat(check.output()).as("promtool check metrics output").isEmpty();
      assertThat(check.exitCode()).as("promtool check metrics exit code").isZero();
    }
  }

  /**
   * The reference file lists every stepcast_* metric and every other metric the Grafana dashboard
   * queries, each with its label names, as this scrape shows them. The dashboard is checked against
   * the file by .ci/k8s-validate/promql-check.mjs (no Java there); here the file is checked against
   * the real thing.
   */
  private static void checkMetricsReference(PrometheusText m) throws Exception {
    Map<String, SortedSet<String>> labels = new TreeMap<>();
    for (PrometheusText.Sample s : m.samples()) {
      labels.computeIfAbsent(s.name(), k -> new TreeSet<>()).addAll(s.labels().keySet());
    }
    SortedSet<String> used = new TreeSet<>();
    JsonNode dashboard = JSON.readTree(Files.readString(DASHBOARD));
    for (JsonNode query : dashboard.findValues("expr")) {
      Matcher matcher = SELECTOR.matcher(query.asText());
      while (matcher.find()) {
        used.add(matcher.group(1));
      }
    }
    for (JsonNode query : dashboard.findValues("query")) {
      String q = query.isObject() ? query.path("query").asText() : query.asText();
      Matcher matcher = LABEL_VALUES.matcher(q);
      if (matcher.find()) {
        used.add(matcher.group(1));
      }
    }
    for (JsonNode group : new YAMLMapper().readTree(RULES.toFile()).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        Matcher matcher = SELECTOR.matcher(rule.path("expr").asText());
        while (matcher.find()) {
          if (!SCRAPE_SERIES.contains(matcher.group(1)) && !PENDING.contains(matcher.group(1))) {
            used.add(matcher.group(1));
          }
        }
      }
    }
    assertThat(labels.keySet()).as("metrics the dashboard and the alerts query").containsAll(used);
    StringBuilder out = new StringBuilder(REFERENCE_HEADER);
    labels.forEach(
        (name, l) -> {
          if (name.startsWith("stepcast_") || used.contains(name)) {
            out.append(name).append(' ').append(String.join(",", l)).append('\n');
          }
        });
    if (Boolean.getBoolean("stepcast.updateMetricsReference")) {
      Files.writeString(REFERENCE, out.toString());
    }
    assertThat(Files.readString(REFERENCE))
        .as(
            "%s no longer matches the scrape. If the change is on purpose, rerun with"
                + " -Dstepcast.updateMetricsReference=true and commit the file (and update"
                + " docs/METRICS.md and the dashboard)",
            REFERENCE)
        .isEqualTo(out.toString());
  }

  /** The family a sample belongs to (its name, or without a histogram/summary suffix). */
  private static String family(PrometheusText m, String sample) {
    if (m.types().containsKey(sample)) {
      return sample;
    }
    for (String suffix : List.of("_bucket", "_count", "_sum")) {
      if (sample.endsWith(suffix)) {
        String base = sample.substring(0, sample.length() - suffix.length());
        if (m.types().containsKey(base)) {
          return base;
        }
      }
    }
    return null;
  }

  private static double persistenceSum(List<Map.Entry<String, String>> events) throws Exception {
    Map<String, Double> last = new HashMap<>();
    double sum = 0;
    for (Map.Entry<String, String> e : events) {
      double t = JSON.readTree(e.getValue()).get("temperature").asDouble();
      Double before = last.put(e.getKey(), t);
      if (before != null) {
        sum += Math.abs(t - before);
      }
    }
    return sum;
  }

  private static Map<String, String> with(Map<String, String> base, String... kv) {
    Map<String, String> out = new HashMap<>(base);
    for (int i = 0; i < kv.length; i += 2) {
      out.put(kv[i], kv[i + 1]);
    }
    return out;
  }
}
