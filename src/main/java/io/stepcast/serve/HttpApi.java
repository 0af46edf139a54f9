package io.stepcast.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.stepcast.model.ModelRegistry;
import io.stepcast.state.SeriesState;
import io.stepcast.topology.ForecastTopology;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of an instance: Prometheus metrics, health, and the state API. Any instance answers
 * a series query: it finds the key's active owner through Kafka Streams metadata and, when that is
 * another instance, asks it (with {@code local=true} so the request is not forwarded again).
 *
 * <ul>
 *   <li>{@code GET /metrics} Prometheus text format
 *   <li>{@code GET /health/live} 200 unless the streams client failed
 *   <li>{@code GET /health/ready} 200 once the streams are RUNNING and a model is serving
 *   <li>{@code GET /series/{id}} the series' state summary and last forecast
 *   <li>{@code GET /series/{id}/forecast?steps=N} N forecasts rolled forward from the live state
 * </ul>
 */
public final class HttpApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);

  private final HttpServer server;
  private final ExecutorService executor;
  private final PrometheusMeterRegistry prometheus;
  private final KafkaStreams streams;
  private final ModelRegistry registry;
  private final SeriesQuery query;
  private final HostInfo self;
  private final ObjectMapper json;

  /**
   * @param self this instance's {@code application.server} address, or null when there is one
   *     instance
   */
  public HttpApi(
      int port,
      PrometheusMeterRegistry prometheus,
      KafkaStreams streams,
      ModelRegistry registry,
      SeriesQuery query,
      HostInfo self,
      ObjectMapper json)
      throws IOException {
    this.prometheus = prometheus;
    this.streams = streams;
    this.registry = registry;
    this.query = query;
    this.self = self;
    this.json = json;
    this.server = HttpServer.create(new InetSocketAddress(port), 64);
    this.executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "stepcast-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/metrics", this::metrics);
    server.createContext("/health/live", this::live);
    server.createContext("/health/ready", this::ready);
    server.createContext("/series/", this::series);
    server.start();
  }

  /** The bound port (useful with port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  private void metrics(HttpExchange x) throws IOException {
    if (!get(x)) {
      return;
    }
    byte[] body = prometheus.scrape().getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    send(x, 200, body);
  }

  private void live(HttpExchange x) throws IOException {
    if (!get(x)) {
      return;
    }
    KafkaStreams.State s = streams.state();
    boolean alive = s != KafkaStreams.State.ERROR && s != KafkaStreams.State.PENDING_ERROR;
    ObjectNode n =
        json.createObjectNode().put("status", alive ? "UP" : "DOWN").put("streams", s.name());
    sendJson(x, alive ? 200 : 503, n);
  }

  private void ready(HttpExchange x) throws IOException {
    if (!get(x)) {
      return;
    }
    KafkaStreams.State s = streams.state();
    ModelRegistry.Handle h = registry.current();
    boolean ready = s == KafkaStreams.State.RUNNING && h != null;
    ObjectNode n =
        json.createObjectNode()
            .put("status", ready ? "READY" : "NOT_READY")
            .put("streams", s.name());
    n.put("model", h == null ? null : h.version());
    sendJson(x, ready ? 200 : 503, n);
  }

  private void series(HttpExchange x) throws IOException {
    if (!get(x)) {
      return;
    }
    String path = x.getRequestURI().getRawPath().substring("/series/".length());
    boolean forecast = path.endsWith("/forecast");
    if (forecast) {
      path = path.substring(0, path.length() - "/forecast".length());
    }
    String id = URLDecoder.decode(path, StandardCharsets.UTF_8);
    if (id.isEmpty() || id.contains("/")) {
      sendError(x, 400, "use /series/{id} or /series/{id}/forecast?steps=N");
      return;
    }
    String rawQuery = x.getRequestURI().getRawQuery();
    int steps = 1;
    boolean local = false;
    if (rawQuery != null) {
      for (String kv : rawQuery.split("&")) {
        int eq = kv.indexOf('=');
        String k = eq < 0 ? kv : kv.substring(0, eq);
        String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
        if (k.equals("steps")) {
          try {
            steps = Integer.parseInt(v);
          } catch (NumberFormatException e) {
            steps = -1;
          }
          if (steps < 1 || steps > SeriesQuery.MAX_STEPS) {
            sendError(
                x,
                400,
                "steps must be a whole number from 1 to "
                    + SeriesQuery.MAX_STEPS
                    + ", got '"
                    + v
                    + "'");
            return;
          }
        } else if (k.equals("local")) {
          local = v.isEmpty() || Boolean.parseBoolean(v);
        }
      }
    }
    if (streams.state() != KafkaStreams.State.RUNNING) {
      sendError(x, 503, "the streams are " + streams.state() + ", not RUNNING; try again shortly");
      return;
    }
    if (!local && self != null) {
      KeyQueryMetadata meta =
          streams.queryMetadataForKey(
              ForecastTopology.STATE_STORE, id, Serdes.String().serializer());
      if (meta == null || meta == KeyQueryMetadata.NOT_AVAILABLE) {
        sendError(x, 503, "the owner of series '" + id + "' is not known yet (rebalancing?)");
        return;
      }
      HostInfo owner = meta.activeHost();
      if (!owner.equals(self)) {
        proxy(x, owner);
        return;
      }
    }
    ReadOnlyKeyValueStore<String, SeriesState> store =
        streams.store(
            StoreQueryParameters.fromNameAndType(
                ForecastTopology.STATE_STORE,
                QueryableStoreTypes.<String, SeriesState>keyValueStore()));
    SeriesState s = store.get(id);
    if (s == null) {
      sendError(x, 404, "unknown series '" + id + "'");
      return;
    }
    if (!forecast) {
      sendJson(x, 200, query.summary(id, s));
      return;
    }
    ModelRegistry.Handle h = registry.acquire();
    if (h == null) {
      sendError(x, 503, "no model is serving");
      return;
    }
    try {
      sendJson(x, 200, query.forecast(id, s, steps, h));
    } finally {
      h.release();
    }
  }

  private void proxy(HttpExchange x, HostInfo owner) throws IOException {
    String q = x.getRequestURI().getRawQuery();
    URI uri =
        URI.create(
            "http://"
                + owner.host()
                + ":"
                + owner.port()
                + x.getRequestURI().getRawPath()
                + "?"
                + (q == null ? "" : q + "&")
                + "local=true");
    HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
    c.setConnectTimeout(5_000);
    c.setReadTimeout(30_000);
    int code;
    byte[] body;
    try {
      code = c.getResponseCode();
      try (InputStream in = code < 400 ? c.getInputStream() : c.getErrorStream()) {
        body = in == null ? new byte[0] : in.readAllBytes();
      }
    } catch (IOException e) {
      sendError(
          x, 502, "the owner of this series, " + owner + ", did not answer: " + e.getMessage());
      return;
    } finally {
      c.disconnect();
    }
    x.getResponseHeaders().set("Content-Type", "application/json");
    x.getResponseHeaders().set("X-Stepcast-Owner", owner.host() + ":" + owner.port());
    send(x, code, body);
  }

  private boolean get(HttpExchange x) throws IOException {
    if (!"GET".equals(x.getRequestMethod())) {
      sendError(x, 405, "only GET is supported");
      return false;
    }
    return true;
  }

  private void sendError(HttpExchange x, int code, String message) throws IOException {
    sendJson(x, code, json.createObjectNode().put("status", code).put("error", message));
  }

  private void sendJson(HttpExchange x, int code, ObjectNode body) throws IOException {
    x.getResponseHeaders().set("Content-Type", "application/json");
    send(x, code, json.writeValueAsBytes(body));
  }

  private static void send(HttpExchange x, int code, byte[] body) throws IOException {
    x.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
    try (OutputStream out = x.getResponseBody()) {
      out.write(body);
    }
  }

  /** URL-encodes a series id for a path segment. */
  public static String encode(String id) {
    return URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    LOG.debug("http api stopped");
  }
}
