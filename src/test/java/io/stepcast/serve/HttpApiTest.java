package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.stepcast.config.ConfigException;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.model.ModelRegistry;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.RawHttp;
import io.stepcast.testsupport.TestHttp;
import io.stepcast.train.PipelineModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP API over real sockets, without a broker: slow and silent clients cannot keep the health
 * endpoints from answering, every answer (Jetty's own errors included) is JSON, the bearer token
 * guards {@code /series} only, and the server listens where it is told.
 */
class HttpApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TopologySpec SPEC =
      SpecLoader.load(Path.of("topologies/weather.yaml"), Map.of());
  private static final String TOKEN = "s3cret-token-42";

  private final List<AutoCloseable> open = new ArrayList<>();
  private ModelRegistry registry;
  private Health health;

  @BeforeEach
  void setUp() {
    registry =
        ModelSources.registry(SPEC, ForecastService.execution(SPEC), ModelRegistry.Listener.NONE);
    // No broker listens there: readiness says so; nothing else here needs one.
    health = new Health(registry, Map.of("bootstrap.servers", "127.0.0.1:" + TestHttp.freePort()));
  }

  @AfterEach
  void tearDown() throws Exception {
    Collections.reverse(open);
    for (AutoCloseable c : open) {
      c.close();
    }
    health.close();
    registry.close();
  }

  private HttpApi start(String bindAddress, int port, String token) {
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    open.add(prometheus::close);
    HttpApi api =
        new HttpApi(
            new HttpApi.Settings(bindAddress, port, token),
            prometheus,
            registry,
            new SeriesQuery(SPEC, JSON),
            null,
            health,
            JSON);
    open.add(api);
    return api;
  }

  private Socket keep(Socket s) {
    open.add(s);
    return s;
  }

  @Test
  void shouldAnswerHealthWithinSecondsWhileSlowClientsHoldMoreConnectionsThanThreads() {
    int port = start(null, 0, null).port();
    List<Socket> slow = new ArrayList<>();
    // More idle half-requests than Jetty has threads and the series pool has workers together.
    int halfRequests = 2 * (HttpServer.MAX_THREADS + HttpApi.SERIES_THREADS);
    for (int i = 0; i < halfRequests; i++) {
      slow.add(keep(RawHttp.open(port, "GET /health/live HTTP/1.1\r\nHost: localhost\r\n")));
    }
    for (int i = 0; i < 4; i++) {
      // A body announced and never sent, on the API and on a health path.
      String path = i % 2 == 0 ? "/series/s1" : "/health/live";
      slow.add(
          keep(
              RawHttp.open(
                  port,
                  "POST "
                      + path
                      + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n")));
      slow.add(keep(RawHttp.open(port, "GET /heal")));
      slow.add(keep(RawHttp.open(port, "")));
    }

    long worst = 0;
    for (int i = 0; i < 20; i++) {
      long t0 = System.nanoTime();
      RawHttp.Answer live = RawHttp.get(port, "/health/live");
      RawHttp.Answer ready = RawHttp.get(port, "/health/ready");
      worst = Math.max(worst, (System.nanoTime() - t0) / 1_000_000);
      assertThat(live.status()).as("%s", live).isEqualTo(200);
      assertThat(live.json().get("status").asText()).isEqualTo("UP");
      assertThat(ready.status()).as("no model yet: %s", ready).isEqualTo(503);
    }
    assertThat(worst).as("slowest pair of health answers, ms").isLessThan(5_000);
    assertThat(RawHttp.get(port, "/metrics").status()).isEqualTo(200);

    // The server gives up on every slow connection after its idle timeout.
    for (Socket s : slow) {
      assertThat(RawHttp.closedByServer(s, HttpServer.IDLE_TIMEOUT.plusSeconds(20)))
          .as("a slow connection is closed by the server")
          .isTrue();
    }
  }

  @Test
  void shouldKeepAnsweringHealthWhenSilentConnectionsReachTheConnectionLimit() {
    int port = start(null, 0, null).port();
    List<Socket> crowd = new ArrayList<>();
    for (int i = 0; i < HttpServer.MAX_CONNECTIONS + 20; i++) {
      crowd.add(keep(RawHttp.open(port, "GET /health/live HTTP/1.1\r\n")));
    }
    // Beyond the limit a new connection closes the one silent longest: a probe gets through.
    long t0 = System.nanoTime();
    RawHttp.Answer live = RawHttp.get(port, "/health/live");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(live.status()).as("%s", live).isEqualTo(200);
    assertThat(ms).as("health answer at the connection limit, ms").isLessThan(5_000);
    // The server keeps no more than its limit open: the excess is closed for the newcomers (some
    // of the crowd may still wait in the kernel's queue: wait for them to arrive and evict).
    Set<Socket> closed = new HashSet<>();
    int excess = crowd.size() + 1 - HttpServer.MAX_CONNECTIONS;
    Await.until(
        Duration.ofSeconds(60),
        () -> {
          for (Socket s : crowd) {
            if (!closed.contains(s) && RawHttp.closedByServer(s, Duration.ofMillis(20))) {
              closed.add(s);
            }
          }
          return closed.size() >= excess;
        },
        () -> closed.size() + " of the crowd closed by the server, expected at least " + excess);
  }

  @Test
  void shouldAnswerJsonForEveryErrorWhetherJettyOrTheApiWritesIt() {
    int port = start(null, 0, null).port();
    String longTarget = "/series/" + "x".repeat(20_000);
    Map<String, Integer> requests =
        Map.ofEntries(
            Map.entry(get("/series/%zz"), 400),
            Map.entry(get("/series/abc%2"), 400),
            Map.entry(get("/series/%C3%28"), 400),
            Map.entry(get("/series/%ED%A0%80"), 400),
            Map.entry(get("/series/s1/forecast?steps=%zz"), 400),
            Map.entry(get("/series/s1/forecast?steps=abc"), 400),
            Map.entry(get("/series/s1/bogus"), 400),
            Map.entry(get("/nope"), 404),
            Map.entry(get("/health/%zz"), 400),
            Map.entry(get("/"), 404),
            Map.entry(
                "POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                    + "Connection: close\r\n\r\n{}",
                405),
            Map.entry("DELETE /series/s1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
            Map.entry(get(longTarget), 414),
            Map.entry(
                "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: "
                    + "y".repeat(20_000)
                    + "\r\nConnection: close\r\n\r\n",
                431),
            Map.entry("BLAH\r\n\r\n", 400),
            Map.entry("GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
            Map.entry(
                "GET /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n"
                    + "Connection: close\r\n\r\n",
                400),
            // The streams are not there: the state API says so, with when to ask again.
            Map.entry(get("/series/s1"), 503));
    for (Map.Entry<String, Integer> r : requests.entrySet()) {
      String shown = r.getKey().length() > 80 ? r.getKey().substring(0, 80) + "..." : r.getKey();
      RawHttp.Answer a = RawHttp.exchange("127.0.0.1", port, r.getKey(), Duration.ofSeconds(30));
      assertThat(a.status()).as("%s -> %s", shown, a).isEqualTo(r.getValue());
      assertThat(a.header("Content-Type"))
          .as(shown)
          .hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
      assertThat(a.json().get("status").asInt()).as(shown).isEqualTo(r.getValue());
      assertThat(a.json().get("error").asText()).as(shown).isNotBlank();
      if (r.getValue() == 503) {
        assertThat(a.header("Retry-After")).as(shown).hasValue("1");
      }
      if (r.getValue() == 405) {
        assertThat(a.header("Allow")).as(shown).hasValue("GET");
      }
    }
    for (String bad : List.of("/series/%zz", "/series/%C3%28")) {
      assertThat(RawHttp.get(port, bad).json().get("error").asText()).as(bad).contains("UTF-8");
    }
  }

  private static String get(String target) {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  }

  @Test
  void shouldRequireTheBearerTokenForSeriesAndLeaveHealthAndMetricsOpen() {
    int port = start(null, 0, TOKEN).port();

    RawHttp.Answer missing = RawHttp.get(port, "/series/s1");
    assertThat(missing.status()).as("%s", missing).isEqualTo(401);
    assertThat(missing.header("WWW-Authenticate")).hasValue("Bearer realm=\"stepcast\"");
    assertThat(missing.json().get("error").asText()).contains("bearer token");
    for (String wrong :
        List.of(
            "Authorization: Bearer wrong",
            "Authorization: Bearer " + TOKEN + "x",
            "Authorization: Bearer " + TOKEN.substring(1),
            "Authorization: Bearer ",
            "Authorization: Basic " + TOKEN,
            "Authorization: " + TOKEN)) {
      RawHttp.Answer a = RawHttp.get(port, "/series/s1/forecast?steps=2", wrong);
      assertThat(a.status()).as("%s -> %s", wrong, a).isEqualTo(401);
      assertThat(a.json().get("status").asInt()).isEqualTo(401);
    }
    assertThat(
            RawHttp.get(port, "/series/s1", "Authorization: Bearer wrong")
                .header("WWW-Authenticate"))
        .hasValue("Bearer realm=\"stepcast\", error=\"invalid_token\"");
    // Past the token check: the streams are not running here, so 503.
    for (String right :
        List.of("Authorization: Bearer " + TOKEN, "authorization: bearer " + TOKEN)) {
      RawHttp.Answer a = RawHttp.get(port, "/series/s1", right);
      assertThat(a.status()).as("%s -> %s", right, a).isEqualTo(503);
    }
    assertThat(RawHttp.get(port, "/health/live").status()).isEqualTo(200);
    assertThat(RawHttp.get(port, "/health/ready").status()).isEqualTo(503);
    assertThat(RawHttp.get(port, "/metrics").status()).isEqualTo(200);
  }

  @Test
  void shouldAnswerSeriesWithoutATokenWhenNoneIsSet() {
    int port = start(null, 0, " ").port();
    assertThat(RawHttp.get(port, "/series/s1").status()).isEqualTo(503);
  }

  @Test
  void shouldListenOnlyOnTheBindAddress() {
    // The whole of 127.0.0.0/8 is loopback on Linux: 127.0.0.2 is an address of this host that a
    // client of 127.0.0.1 does not reach.
    int port = start("127.0.0.2", 0, null).port();
    RawHttp.Answer there =
        RawHttp.exchange(
            "127.0.0.2",
            port,
            "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Duration.ofSeconds(30));
    assertThat(there.status()).isEqualTo(200);
    assertThat(connects("127.0.0.1", port)).as("not listening on 127.0.0.1").isFalse();
    for (InetAddress other : otherAddresses()) {
      assertThat(connects(other.getHostAddress(), port)).as("not listening on %s", other).isFalse();
    }
  }

  @Test
  void shouldListenOnEveryInterfaceByDefault() {
    int port = start(null, 0, null).port();
    assertThat(connects("127.0.0.1", port)).isTrue();
    assertThat(connects("127.0.0.2", port)).isTrue();
    for (InetAddress other : otherAddresses()) {
      assertThat(connects(other.getHostAddress(), port)).as("listening on %s", other).isTrue();
    }
  }

  @Test
  void shouldNameTheSettingWhenTheAddressCannotBeBound() {
    int port = start(null, 0, null).port();
    assertThatThrownBy(() -> start(null, port, null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("port " + port)
        .hasMessageContaining("--http-port")
        .hasMessageContaining("STEPCAST_HTTP_PORT");
    // 192.0.2.1 is TEST-NET-1: never an address of this host.
    assertThatThrownBy(() -> start("192.0.2.1", 0, null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("192.0.2.1")
        .hasMessageContaining("--http-bind-address");
  }

  @Test
  void shouldSayWhyNotReadyWithEveryReasonWhileStayingLive() {
    int port = start(null, 0, null).port();
    health.addReadinessCheck("model topic follower", () -> "stopped after 3 errors");
    health.addReadinessCheck("model directory watcher", () -> null);
    // The broker address answers nothing: after the grace period readiness says so.
    Await.until(
        Duration.ofSeconds(60),
        () -> RawHttp.get(port, "/health/ready").body().contains("cannot reach the Kafka brokers"),
        () -> "readiness to name the unreachable brokers: " + RawHttp.get(port, "/health/ready"));
    RawHttp.Answer ready = RawHttp.get(port, "/health/ready");
    assertThat(ready.status()).isEqualTo(503);
    assertThat(ready.json().get("status").asText()).isEqualTo("NOT_READY");
    assertThat(ready.json().get("brokerReachable").asBoolean()).isFalse();
    List<String> reasons = new ArrayList<>();
    ready.json().get("reasons").forEach(r -> reasons.add(r.asText()));
    assertThat(reasons)
        .anySatisfy(r -> assertThat(r).contains("waiting for a model"))
        .anySatisfy(r -> assertThat(r).contains("cannot reach the Kafka brokers at 127.0.0.1:"))
        .anySatisfy(r -> assertThat(r).isEqualTo("model topic follower: stopped after 3 errors"))
        .noneSatisfy(r -> assertThat(r).contains("model directory watcher"));
    RawHttp.Answer live = RawHttp.get(port, "/health/live");
    assertThat(live.status())
        .as("a broker outage is no reason to restart: %s", live)
        .isEqualTo(200);

    // A model arrives: that reason goes, the others stay.
    assertThat(registry.offer(PipelineModels.fixed(SPEC, 3), "test"))
        .isEqualTo(ModelRegistry.Outcome.SWAPPED);
    RawHttp.Answer after = RawHttp.get(port, "/health/ready");
    assertThat(after.json().get("model").asText()).isEqualTo("weather-fixed-3");
    assertThat(after.json().get("reason").asText())
        .doesNotContain("waiting for a model")
        .contains("the streams are not started yet")
        .contains("cannot reach the Kafka brokers");
  }

  private static boolean connects(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 2_000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The host's non-loopback IPv4 addresses (none on a machine without a network). */
  private static List<InetAddress> otherAddresses() {
    List<InetAddress> out = new ArrayList<>();
    try {
      for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!n.isUp() || n.isLoopback()) {
          continue;
        }
        for (InetAddress a : Collections.list(n.getInetAddresses())) {
          if (a.getAddress().length == 4) {
            out.add(a);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
