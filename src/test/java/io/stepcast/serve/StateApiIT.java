package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.Csv;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.TestHttp;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.topology.ForecastTopology;
import io.stepcast.train.PipelineModels;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state API of two instances that share one application id and split a four-partition input
 * topic: each series is asked of the instance that does not own it, which finds the owner through
 * Kafka Streams metadata and passes its answer on. Also the errors (404, 400) and the answers while
 * one instance leaves and the other takes over its partitions (always JSON, never a dropped
 * connection).
 */
class StateApiIT {
  private static final Logger LOG = LoggerFactory.getLogger(StateApiIT.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int EVENTS_PER_SERIES = 10;
  // Ids that need encoding in a URL path are part of the set on purpose.
  private static final List<String> SERIES =
      List.of("s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "station 8", "a/b", "x+y", "ünï");

  @TempDir Path dir;

  private static String bootstrapServers() {
    return EmbeddedKafkaSupport.cluster().bootstrapServers();
  }

  private TopologySpec spec() {
    String base = TestTopics.unique("state-api");
    return SpecLoader.load(
        Path.of("topologies/weather.yaml"), TestTopics.isolatedPipeline(base, 4));
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
            // A member that leaves without a word (Kafka Streams does not leave the group on
            // close) is noticed after the session timeout: 10 s here instead of 45 s.
            Map.of("session.timeout.ms", "10000", "heartbeat.interval.ms", "2000")));
  }

  private static List<Map.Entry<String, String>> events() throws Exception {
    Csv csv = Csv.read(Path.of("samples/seattle-weather-hourly-normals.csv"));
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (int i = 0; i < EVENTS_PER_SERIES; i++) {
      Csv.Row r = csv.rows().get(i);
      for (int s = 0; s < SERIES.size(); s++) {
        out.add(
            Map.entry(
                SERIES.get(s),
                String.format(
                    Locale.ROOT,
                    "{\"date\":\"%s\",\"pressure\":%s,\"temperature\":%s,\"wind\":%s}",
                    r.get("date"),
                    r.get("pressure"),
                    r.getDouble("temperature") + 0.5 * s,
                    r.get("wind"))));
      }
    }
    return out;
  }

  private static String path(String id) {
    return "/series/" + HttpApi.encode(id);
  }

  /** Both instances RUNNING and each the active owner of some partitions. */
  private static boolean settled(ForecastService a, ForecastService b) {
    if (a.streams().state() != KafkaStreams.State.RUNNING
        || b.streams().state() != KafkaStreams.State.RUNNING) {
      return false;
    }
    int owning = 0;
    for (StreamsMetadata m : a.streams().metadataForAllStreamsClients()) {
      if (!m.topicPartitions().isEmpty()) {
        owning++;
      }
    }
    return owning == 2;
  }

  /** A key whose owner is the instance announced at {@code port}, or null (none, rebalancing). */
  private static String keyOwnedBy(ForecastService s, int port) {
    for (int i = 0; i < 100; i++) {
      KeyQueryMetadata meta =
          s.streams()
              .queryMetadataForKey(
                  ForecastTopology.STATE_STORE, "k" + i, Serdes.String().serializer());
      if (meta != KeyQueryMetadata.NOT_AVAILABLE && meta.activeHost().port() == port) {
        return "k" + i;
      }
    }
    return null;
  }

  /** A 503 because the asked instance is rebalancing (not the answer a test waits for). */
  private static boolean rebalancing(TestHttp.Response r) {
    return r.status() == 503 && r.json().path("error").asText().contains("not RUNNING");
  }

  private static HostInfo owner(ForecastService s, String id) {
    KeyQueryMetadata meta =
        s.streams()
            .queryMetadataForKey(ForecastTopology.STATE_STORE, id, Serdes.String().serializer());
    assertThat(meta).isNotEqualTo(KeyQueryMetadata.NOT_AVAILABLE);
    return meta.activeHost();
  }

  @Test
  void shouldAnswerForEverySeriesFromTheInstanceThatDoesNotOwnIt() throws Exception {
    TopologySpec spec = spec();
    Path models = Files.createDirectories(dir.resolve("models"));
    Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 11));
    int portA = TestHttp.freePort();
    int portB = TestHttp.freePort();
    try (ForecastService a = start(spec, models, "a", portA);
        ForecastService b = start(spec, models, "b", portB)) {
      Await.until(Duration.ofSeconds(90), () -> settled(a, b), () -> "both instances to own tasks");
      List<Map.Entry<String, String>> events = events();
      TestRecords.produce(bootstrapServers(), spec.topics().input(), events);
      List<ConsumerRecord<String, String>> forecasts =
          TestRecords.consume(
              bootstrapServers(), spec.topics().output(), events.size(), Duration.ofSeconds(90));
      Map<String, JsonNode> lastForecast = new HashMap<>();
      for (ConsumerRecord<String, String> r : forecasts) {
        JsonNode f = JSON.readTree(r.value());
        JsonNode before = lastForecast.get(r.key());
        if (before == null || before.get("eventTime").asLong() < f.get("eventTime").asLong()) {
          lastForecast.put(r.key(), f);
        }
      }
      Await.until(Duration.ofSeconds(60), () -> settled(a, b), () -> "no rebalance under way");

      Map<Integer, ForecastService> byPort = Map.of(portA, a, portB, b);
      Set<Integer> owners = new HashSet<>();
      for (String id : SERIES) {
        HostInfo owner = owner(a, id);
        assertThat(owner(b, id)).as("both instances agree on the owner of %s", id).isEqualTo(owner);
        assertThat(owner.host()).isEqualTo("localhost");
        owners.add(owner.port());
        int other = owner.port() == portA ? portB : portA;
        String ownerAddress = "localhost:" + owner.port();

        TestHttp.Response summary = TestHttp.get(other, path(id));
        assertThat(summary.status()).as("%s from the non-owner: %s", id, summary).isEqualTo(200);
        assertThat(summary.header(HttpApi.OWNER_HEADER))
            .as("%s was forwarded", id)
            .hasValue(ownerAddress);
        JsonNode s = summary.json();
        assertThat(s.get("series").asText()).isEqualTo(id);
        assertThat(s.get("steps").asLong()).isEqualTo(EVENTS_PER_SERIES);
        assertThat(s.get("model").asText()).isEqualTo("weather-fixed-11");
        assertThat(s.get("scored").asLong()).isEqualTo(EVENTS_PER_SERIES - 1);
        JsonNode last = lastForecast.get(id);
        assertThat(s.get("lastForecast").asDouble())
            .isCloseTo(last.get("forecast").asDouble(), within(1e-9));
        assertThat(s.get("lastEventTime").asLong()).isEqualTo(last.get("eventTime").asLong());
        assertThat(s.get("lastActual").asDouble())
            .isCloseTo(last.get("actual").asDouble(), within(1e-9));

        // The owner answers the same itself, without forwarding.
        TestHttp.Response direct = TestHttp.get(owner.port(), path(id));
        assertThat(direct.status()).isEqualTo(200);
        assertThat(direct.header(HttpApi.OWNER_HEADER)).isEmpty();
        assertThat(direct.json()).isEqualTo(s);

        // A rolled forecast from the live state, through the non-owner; the state is unchanged.
        TestHttp.Response rolled = TestHttp.get(other, path(id) + "/forecast?steps=5");
        assertThat(rolled.status()).as("%s", rolled).isEqualTo(200);
        assertThat(rolled.header(HttpApi.OWNER_HEADER)).hasValue(ownerAddress);
        JsonNode steps = rolled.json().get("forecasts");
        assertThat(steps).hasSize(5);
        assertThat(steps.get(0).get("forecast").asDouble())
            .isEqualTo(s.get("lastForecast").asDouble());
        long interval = s.get("lastIntervalMs").asLong();
        assertThat(interval).isEqualTo(3_600_000L);
        for (int k = 0; k < 5; k++) {
          assertThat(steps.get(k).get("step").asInt()).isEqualTo(k + 1);
          assertThat(steps.get(k).get("eventTime").asLong())
              .isEqualTo(s.get("lastEventTime").asLong() + (k + 1) * interval);
          assertThat(steps.get(k).get("forecast").isNumber()).isTrue();
        }
        // Step 1 is the last forecast with the intervals its record published; later steps are
        // rolled, their intervals the next-event ones widened with the square root of the step.
        assertThat(steps.get(0).get("forecastMethod").asText()).isEqualTo("direct");
        assertThat(steps.get(0).get("intervalMethod").asText()).isEqualTo("calibrated");
        assertThat(steps.get(0).get("intervals")).isEqualTo(last.get("intervals"));
        double next95 =
            last.at("/intervals/0.95/upper").asDouble() - last.get("forecast").asDouble();
        for (int k = 1; k < 5; k++) {
          JsonNode step = steps.get(k);
          assertThat(step.get("forecastMethod").asText()).isEqualTo("rolled");
          assertThat(step.get("intervalMethod").asText()).isEqualTo("widened");
          double f = step.get("forecast").asDouble();
          assertThat(step.at("/intervals/0.95/upper").asDouble() - f)
              .isCloseTo(next95 * Math.sqrt(k + 1), within(1e-9 * (1 + next95)));
          assertThat(f - step.at("/intervals/0.95/lower").asDouble())
              .isCloseTo(next95 * Math.sqrt(k + 1), within(1e-9 * (1 + next95)));
        }
        assertThat(rolled.json().get("model").asText()).isEqualTo("weather-fixed-11");
        assertThat(TestHttp.get(other, path(id)).json()).as("state unchanged").isEqualTo(s);
        assertThat(byPort.get(owner.port()).streams().state())
            .isEqualTo(KafkaStreams.State.RUNNING);
      }
      assertThat(owners).as("each instance owns some of the series").hasSize(2);

      // Unknown series: 404 from either instance (forwarded or not), as JSON.
      for (int port : List.of(portA, portB)) {
        TestHttp.Response unknown = TestHttp.get(port, path("no-such-series"));
        assertThat(unknown.status()).as("%s", unknown).isEqualTo(404);
        assertThat(unknown.json().get("error").asText()).contains("unknown series");
        TestHttp.Response unknownForecast =
            TestHttp.get(port, path("no-such-series") + "/forecast?steps=3");
        assertThat(unknownForecast.status()).isEqualTo(404);
      }

      // Bad requests: 400 with a message, from both instances.
      for (int port : List.of(portA, portB)) {
        for (String bad :
            List.of(
                "/series/s1/forecast?steps=0",
                "/series/s1/forecast?steps=abc",
                "/series/s1/forecast?steps=1001",
                "/series/s1/forecast?steps=-2",
                "/series/s1/forecast?steps=",
                "/series/s1/bogus",
                "/series/s1/forecast/more",
                "/series/",
                "/series",
                "/series//forecast")) {
          TestHttp.Response r = TestHttp.get(port, bad);
          assertThat(r.status()).as("%s -> %s", bad, r).isEqualTo(400);
          assertThat(r.json().get("error").asText()).as(bad).isNotBlank();
        }
      }
      for (String unknown : List.of("/", "/nope", "/seriesx/s1")) {
        TestHttp.Response r = TestHttp.get(portA, unknown);
        assertThat(r.status()).as("%s -> %s", unknown, r).isEqualTo(404);
        assertThat(r.json().get("error").asText()).contains("no such endpoint");
      }
      assertThat(TestHttp.get(portA, "/series/s1/forecast?steps=abc").json().get("error").asText())
          .contains("steps must be a whole number from 1 to 1000, got 'abc'");

      // One instance leaves: while the other takes over its partitions (restoring their state
      // from the changelog), every answer is JSON: 200, or 503 saying why with Retry-After (also
      // when stale metadata still names the instance that left), never a 502 or a dropped
      // connection. Then the remaining instance answers for every series itself.
      b.close();
      Set<String> answered = new HashSet<>();
      List<Integer> statuses = new ArrayList<>();
      Await.until(
          Duration.ofSeconds(90),
          () -> {
            for (String id : SERIES) {
              TestHttp.Response r;
              try {
                r = TestHttp.get(portA, path(id));
              } catch (UncheckedIOException e) {
                throw new AssertionError("connection dropped while asking for " + id, e);
              }
              statuses.add(r.status());
              assertThat(r.status()).as("%s: %s", id, r).isIn(200, 503);
              assertThat(r.json().isObject()).isTrue();
              if (r.status() == 503) {
                assertThat(r.header("Retry-After")).as("%s: %s", id, r).hasValue("1");
              }
              if (r.status() == 200 && r.header(HttpApi.OWNER_HEADER).isEmpty()) {
                assertThat(r.json().get("steps").asLong()).isEqualTo(EVENTS_PER_SERIES);
                answered.add(id);
              }
            }
            return answered.size() == SERIES.size();
          },
          () -> "instance a to answer for every series itself; answered " + answered);
      assertThat(a.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
      LOG.info("state API answers during the takeover, in order: {}", statuses);
    }
  }

  @Test
  void shouldAnswer503WithRetryAfterWhenTheOwnerDoesNotAnswerOrIsGone() throws Exception {
    TopologySpec spec = spec();
    Path models = Files.createDirectories(dir.resolve("models"));
    Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 11));
    int portA = TestHttp.freePort();
    // Instance b announces an address where a socket accepts connections (the kernel completes
    // the handshake) but nothing ever reads or answers: an owner that hangs.
    ServerSocket hung = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    int hungPort = hung.getLocalPort();
    try (ForecastService a = start(spec, models, "a", portA);
        ForecastService b =
            ForecastService.start(
                new ForecastService.Options(
                    spec,
                    bootstrapServers(),
                    dir.resolve("state-b"),
                    0,
                    "localhost:" + hungPort,
                    models,
                    Map.of("session.timeout.ms", "10000", "heartbeat.interval.ms", "2000")))) {
      Await.until(Duration.ofSeconds(90), () -> settled(a, b), () -> "both instances to own tasks");
      // Kafka Streams may rebalance again after both instances settled (a follow-up or probing
      // rebalance): meanwhile instance a answers 503 "not RUNNING", and ownership may move. That is
      // not the answer under test: ask again, for a key b owns at that moment.
      AtomicReference<TestHttp.Response> hanging = new AtomicReference<>();
      AtomicLong ms = new AtomicLong();
      Await.until(
          Duration.ofSeconds(120),
          () -> {
            String key = keyOwnedBy(a, hungPort);
            if (key == null) {
              return false;
            }
            long t0 = System.nanoTime();
            TestHttp.Response r = TestHttp.get(portA, path(key));
            ms.set((System.nanoTime() - t0) / 1_000_000);
            hanging.set(r);
            return !rebalancing(r);
          },
          () -> "an answer for a key owned by instance b while both run; last " + hanging.get());
      assertThat(hanging.get().status()).as("%s", hanging.get()).isEqualTo(503);
      assertThat(hanging.get().header("Retry-After")).hasValue("1");
      assertThat(hanging.get().json().get("error").asText())
          .contains("did not answer")
          .contains("localhost:" + hungPort);
      assertThat(ms.get())
          .as("the forward gives up after its answer timeout")
          .isGreaterThanOrEqualTo(OwnerClient.ANSWER_TIMEOUT.toMillis() - 1_000)
          .isLessThan(OwnerClient.ANSWER_TIMEOUT.toMillis() + 15_000);

      // Nothing listens there any more: connection refused, the same 503.
      hung.close();
      AtomicReference<TestHttp.Response> refused = new AtomicReference<>();
      Await.until(
          Duration.ofSeconds(120),
          () -> {
            String key = keyOwnedBy(a, hungPort);
            if (key == null) {
              return false;
            }
            refused.set(TestHttp.get(portA, path(key) + "/forecast?steps=2"));
            return !rebalancing(refused.get());
          },
          () -> "an answer for a key owned by instance b; last " + refused.get());
      assertThat(refused.get().status()).as("%s", refused.get()).isEqualTo(503);
      assertThat(refused.get().header("Retry-After")).hasValue("1");
      assertThat(refused.get().json().get("error").asText()).contains("did not answer");
    } finally {
      hung.close();
    }
  }
}
