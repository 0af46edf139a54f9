package io.stepcast.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.stepcast.model.ModelRegistry;
import io.stepcast.state.ModelId;
import io.stepcast.state.SeriesState;
import io.stepcast.topology.ForecastTopology;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsNotStartedException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of an instance: Prometheus metrics, health, and the state API. Any instance answers
 * a series query: it finds the key's active owner through Kafka Streams metadata and, when that is
 * another instance, asks it (with {@code local=true} so the request is not forwarded again) and
 * passes the answer on with the owner's address in {@value #OWNER_HEADER}.
 *
 * <ul>
 *   <li>{@code GET /metrics} Prometheus text format
 *   <li>{@code GET /health/live} 200 unless the streams client failed
 *   <li>{@code GET /health/ready} 200 once the streams are RUNNING and a model is serving
 *   <li>{@code GET /series/{id}} the series' state summary and last forecast
 *   <li>{@code GET /series/{id}/forecast?steps=N} N forecasts rolled forward from the live state
 * </ul>
 *
 * <p>Every answer of the state API is JSON, errors included: 400 for a bad request, 404 for an
 * unknown series, 409 when the series' state was made by another model than the one serving, 502
 * when the owner did not answer, 503 while the instance is not running or ownership is moving (a
 * rebalance), with a message that says which.
 *
 * <p>The server starts before Kafka Streams exists ({@link #attach} hands it over), so liveness and
 * metrics answer while an instance waits for its first model.
 */
public final class HttpApi implements AutoCloseable {
  /** Response header naming the instance that answered a forwarded series query. */
  public static final String OWNER_HEADER = "X-Stepcast-Owner";

  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
  private static final String SERIES = "/series/";

  private final HttpServer server;
  private final ExecutorService executor;
  private final HttpClient client;
  private final PrometheusMeterRegistry prometheus;
  private final ModelRegistry registry;
  private final SeriesQuery query;
  private final HostInfo self;
  private final ObjectMapper json;
  private volatile KafkaStreams streams;

  /**
   * Starts the server on {@code port} (0 for any free port).
   *
   * @param self this instance's {@code application.server} address, or null when there is one
   *     instance
   */
  public HttpApi(
      int port,
      PrometheusMeterRegistry prometheus,
      ModelRegistry registry,
      SeriesQuery query,
      HostInfo self,
      ObjectMapper json)
      throws IOException {
    this.prometheus = prometheus;
    this.registry = registry;
    this.query = query;
    this.self = self;
    this.json = json;
    // Forwarded queries complete asynchronously on the client's threads, so two instances asking
    // each other never wait on each other's pool.
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
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
    server.createContext("/metrics", guarded(this::metrics));
    server.createContext("/health/live", guarded(this::live));
    server.createContext("/health/ready", guarded(this::ready));
    // "/series" matches every path that starts with it; the handler sorts them out.
    server.createContext("/series", guarded(this::series));
    server.createContext("/", guarded(this::notFound));
    server.start();
  }

  /** Hands over the Kafka Streams client once it exists; until then series queries get 503. */
  public void attach(KafkaStreams streams) {
    this.streams = streams;
  }

  /** The bound port (useful with port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** A handler whose unexpected failures still answer, with a 500 JSON error. */
  private HttpHandler guarded(HttpHandler h) {
    return x -> {
      try {
        h.handle(x);
      } catch (IOException e) {
        LOG.debug("HTTP {} {}: {}", x.getRequestMethod(), x.getRequestURI(), e.toString());
        x.close();
      } catch (RuntimeException e) {
        LOG.warn("HTTP {} {} failed", x.getRequestMethod(), x.getRequestURI(), e);
        try {
          sendError(x, 500, "internal error: " + e);
        } catch (IOException | RuntimeException again) {
          x.close();
        }
      }
    };
  }

  private void metrics(HttpExchange x) throws IOException {
    if (!get(x)) {
      return;
    }
    byte[] body = prometheus.scrape().getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    send(x, 200, body);
  }

  private String streamsState() {
    KafkaStreams s = streams;
    return s == null ? "NOT_CREATED" : s.state().name();
  }

  private void live(HttpExchange x) throws IOException {
    if (!get(x)) {
      return;
    }
    KafkaStreams s = streams;
    KafkaStreams.State state = s == null ? null : s.state();
    boolean alive = state != KafkaStreams.State.ERROR && state != KafkaStreams.State.PENDING_ERROR;
    ObjectNode n =
        json.createObjectNode().put("status", alive ? "UP" : "DOWN").put("streams", streamsState());
    sendJson(x, alive ? 200 : 503, n);
  }

  private void ready(HttpExchange x) throws IOException {
    if (!get(x)) {
      return;
    }
    KafkaStreams s = streams;
    KafkaStreams.State state = s == null ? null : s.state();
    ModelRegistry.Handle h = registry.current();
    String sources = registry.healthReason();
    boolean ready = state == KafkaStreams.State.RUNNING && h != null && sources == null;
    ObjectNode n =
        json.createObjectNode()
            .put("status", ready ? "READY" : "NOT_READY")
            .put("streams", streamsState());
    n.put("model", h == null ? null : h.version());
    if (h == null) {
      String refused = registry.lastRefusal();
      n.put(
          "reason",
          "waiting for a model on the model topic or in the model directory"
              + (refused == null ? "" : " (last refused: " + refused + ")"));
    } else if (sources != null) {
      n.put("reason", sources);
    } else if (!ready) {
      n.put("reason", "the streams are " + streamsState() + ", not RUNNING");
    }
    sendJson(x, ready ? 200 : 503, n);
  }

  private void notFound(HttpExchange x) throws IOException {
    sendError(
        x,
        404,
        "no such endpoint: use /metrics, /health/live, /health/ready, /series/{id} or"
            + " /series/{id}/forecast?steps=N");
  }

  private void series(HttpExchange x) throws IOException {
    String raw = x.getRequestURI().getRawPath();
    if (!raw.equals("/series") && !raw.startsWith(SERIES)) {
      notFound(x);
      return;
    }
    if (!get(x)) {
      return;
    }
    String rest = raw.length() <= SERIES.length() ? "" : raw.substring(SERIES.length());
    String[] parts = rest.split("/", -1);
    boolean forecast = parts.length == 2 && parts[1].equals("forecast");
    if (parts.length > 2 || (parts.length == 2 && !forecast) || parts[0].isEmpty()) {
      sendError(x, 400, "use /series/{id} or /series/{id}/forecast?steps=N");
      return;
    }
    String id;
    try {
      // '+' is a plus sign in a path; URLDecoder would read it as a space.
      id = URLDecoder.decode(parts[0].replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      sendError(x, 400, "the series id is not valid percent-encoding: " + e.getMessage());
      return;
    }
    int steps = 1;
    boolean local = false;
    String rawQuery = x.getRequestURI().getRawQuery();
    if (rawQuery != null && !rawQuery.isEmpty()) {
      for (String kv : rawQuery.split("&")) {
        int eq = kv.indexOf('=');
        String k = eq < 0 ? kv : kv.substring(0, eq);
        String v = eq < 0 ? "" : decodeQuery(kv.substring(eq + 1));
        if (k.equals("steps")) {
          steps = parseSteps(v);
          if (steps < 0) {
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
    KafkaStreams s = streams;
    if (s == null || s.state() != KafkaStreams.State.RUNNING) {
      sendError(x, 503, "the streams are " + streamsState() + ", not RUNNING; try again shortly");
      return;
    }
    Integer partition = null;
    if (self != null) {
      KeyQueryMetadata meta;
      try {
        meta =
            s.queryMetadataForKey(ForecastTopology.STATE_STORE, id, Serdes.String().serializer());
      } catch (StreamsNotStartedException | IllegalStateException e) {
        sendError(x, 503, "the owner of series '" + id + "' is not known yet: " + e.getMessage());
        return;
      }
      if (meta == null || meta.equals(KeyQueryMetadata.NOT_AVAILABLE)) {
        sendError(x, 503, "the owner of series '" + id + "' is not known yet (rebalancing)");
        return;
      }
      HostInfo owner = meta.activeHost();
      if (!owner.equals(self)) {
        if (local) {
          // Asked by another instance whose metadata is older than ours: do not answer 404 for a
          // series this instance does not own.
          sendError(
              x, 503, "series '" + id + "' is now owned by " + address(owner) + "; try again");
        } else {
          forward(x, owner);
        }
        return;
      }
      partition = meta.partition();
    }
    SeriesState state;
    try {
      StoreQueryParameters<ReadOnlyKeyValueStore<String, SeriesState>> params =
          StoreQueryParameters.fromNameAndType(
              ForecastTopology.STATE_STORE,
              QueryableStoreTypes.<String, SeriesState>keyValueStore());
      if (partition != null) {
        params = params.withPartition(partition);
      }
      state = s.store(params).get(id);
    } catch (InvalidStateStoreException e) {
      // Thrown while the store is migrating or restoring: a rebalance is under way.
      sendError(
          x,
          503,
          "the state of series '"
              + id
              + "' cannot be read right now ("
              + e.getMessage()
              + "); try again shortly");
      return;
    }
    if (state == null) {
      sendError(x, 404, "unknown series '" + id + "'");
      return;
    }
    if (!forecast) {
      ModelRegistry.Handle serving = registry.current();
      sendJson(x, 200, query.summary(id, state, serving == null ? null : serving.version()));
      return;
    }
    ModelRegistry.Handle h = registry.acquire();
    if (h == null) {
      sendError(x, 503, "no model is serving");
      return;
    }
    try {
      if (!state.madeBy(ModelId.of(h.version()))) {
        sendError(
            x,
            409,
            "the state of series '"
                + id
                + "' was made by another model (id "
                + ModelId.hex(state.modelId())
                + ") but model "
                + h.version()
                + " is serving; the series' next event rebuilds its state for it");
        return;
      }
      sendJson(x, 200, query.forecast(id, state, steps, h));
    } finally {
      h.release();
    }
  }

  /** The steps parameter, or -1 when it is not a whole number in range. */
  private static int parseSteps(String v) {
    try {
      int n = Integer.parseInt(v.trim());
      return n >= 1 && n <= SeriesQuery.MAX_STEPS ? n : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String decodeQuery(String v) {
    try {
      return URLDecoder.decode(v, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return v;
    }
  }

  /**
   * Asks the owner and passes its answer on. Completes the exchange asynchronously: the handler
   * thread is free while the owner works.
   */
  private void forward(HttpExchange x, HostInfo owner) {
    String q = x.getRequestURI().getRawQuery();
    URI uri =
        URI.create(
            "http://"
                + address(owner)
                + x.getRequestURI().getRawPath()
                + "?"
                + (q == null || q.isEmpty() ? "" : q + "&")
                + "local=true");
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(30))
            .header("Accept", "application/json")
            .GET()
            .build();
    client
        .sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
        .whenComplete(
            (response, error) -> {
              try {
                if (error != null) {
                  sendError(
                      x,
                      502,
                      "the owner of this series, "
                          + address(owner)
                          + ", did not answer: "
                          + error.getCause());
                  return;
                }
                x.getResponseHeaders()
                    .set(
                        "Content-Type",
                        response.headers().firstValue("Content-Type").orElse("application/json"));
                x.getResponseHeaders().set(OWNER_HEADER, address(owner));
                send(x, response.statusCode(), response.body());
              } catch (IOException | RuntimeException e) {
                LOG.debug("forwarding {} to {} failed: {}", uri, address(owner), e.toString());
                x.close();
              }
            });
  }

  private static String address(HostInfo h) {
    return h.host() + ":" + h.port();
  }

  private boolean get(HttpExchange x) throws IOException {
    if (!"GET".equals(x.getRequestMethod())) {
      x.getResponseHeaders().set("Allow", "GET");
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
