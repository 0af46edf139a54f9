package io.stepcast.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.stepcast.model.ModelRegistry;
import io.stepcast.state.ModelId;
import io.stepcast.state.SeriesState;
import io.stepcast.topology.ForecastTopology;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsNotStartedException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
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
 *   <li>{@code GET /health/live} 200 unless the process is wedged ({@link Health#live})
 *   <li>{@code GET /health/ready} 200 when the instance can make progress ({@link Health#ready})
 *   <li>{@code GET /series/{id}} the series' state summary and last forecast
 *   <li>{@code GET /series/{id}/forecast?steps=N} N forecasts rolled forward from the live state
 * </ul>
 *
 * <p>Every answer is JSON (except the metrics), errors included: 400 for a bad request (a series id
 * that is not valid percent-encoded UTF-8 among them), 401 without the bearer token when one is
 * configured (for {@code /series} only: health and metrics stay open to probes and Prometheus), 404
 * for an unknown series or path, 405 for a method other than GET, 409 when the series' state was
 * made by another model than the one serving, and 503 with {@code Retry-After} whenever asking
 * again shortly can succeed: the instance is not running yet, ownership is moving (a rebalance, a
 * peer that left), the owner did not answer, or the API is busy.
 *
 * <p>Health is answered on Jetty's selector from fields kept up to date elsewhere; metrics and the
 * state API run on small bounded pools of their own, so neither a burst of series queries nor a
 * slow scrape delays a probe, and a full pool answers 503 at once instead of queueing without bound
 * (see {@link HttpServer} for the connection-level limits).
 *
 * <p>The server starts before Kafka Streams exists ({@link Health#attach} hands it over), so
 * liveness and metrics answer while an instance waits for its first model.
 */
public final class HttpApi implements AutoCloseable {
  /** Response header naming the instance that answered a forwarded series query. */
  public static final String OWNER_HEADER = "X-Stepcast-Owner";

  /** The media type of every answer but the metrics. */
  static final String JSON_TYPE = "application/json";

  /** Seconds a client is asked to wait before it asks again after a 503. */
  static final int RETRY_AFTER_SECONDS = 1;

  /** Threads that read series states and roll forecasts. */
  static final int SERIES_THREADS = 2;

  /** Series queries waiting for a thread at most; more are answered 503 at once. */
  static final int SERIES_QUEUE = 32;

  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
  private static final String SERIES = "/series/";
  private static final String BEARER = "Bearer ";

  /**
   * How the server listens and who may ask for series.
   *
   * @param bindAddress the address to listen on; null or blank for every interface
   * @param port the port, 0 for any free one
   * @param bearerToken the token {@code /series} requires as {@code Authorization: Bearer ...};
   *     null or blank for none
   */
  public record Settings(String bindAddress, int port, String bearerToken) {
    @Override
    public String toString() {
      // Never print the token.
      return "Settings[bindAddress="
          + bindAddress
          + ", port="
          + port
          + ", bearerToken="
          + (bearerToken == null || bearerToken.isBlank() ? "none" : "set")
          + "]";
    }
  }

  private final PrometheusMeterRegistry prometheus;
  private final ModelRegistry registry;
  private final SeriesQuery query;
  private final HostInfo self;
  private final Health health;
  private final ObjectMapper json;
  private final byte[] tokenDigest;
  private final ExecutorService seriesPool;
  private final ExecutorService metricsPool;
  private final OwnerClient owners;
  private final HttpServer server;

  /**
   * Starts the server.
   *
   * @param self this instance's {@code application.server} address, or null when there is one
   *     instance
   */
  public HttpApi(
      Settings settings,
      PrometheusMeterRegistry prometheus,
      ModelRegistry registry,
      SeriesQuery query,
      HostInfo self,
      Health health,
      ObjectMapper json) {
    this.prometheus = prometheus;
    this.registry = registry;
    this.query = query;
    this.self = self;
    this.health = health;
    this.json = json;
    String token = settings.bearerToken();
    this.tokenDigest = token == null || token.isBlank() ? null : sha256(token.strip());
    this.seriesPool = boundedPool("stepcast-series", SERIES_THREADS, SERIES_QUEUE);
    this.metricsPool = boundedPool("stepcast-metrics", 1, 4);
    this.owners = new OwnerClient();
    try {
      this.server = new HttpServer(settings.bindAddress(), settings.port(), new Routes(), json);
    } catch (RuntimeException e) {
      seriesPool.shutdownNow();
      metricsPool.shutdownNow();
      owners.close();
      throw e;
    }
  }

  private static ExecutorService boundedPool(String name, int threads, int queue) {
    return new ThreadPoolExecutor(
        threads,
        threads,
        0,
        TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(queue),
        DaemonThreads.named(name),
        new ThreadPoolExecutor.AbortPolicy());
  }

  /** The bound port (useful with port 0). */
  public int port() {
    return server.port();
  }

  /** One request with its response and completion callback. */
  private record Exchange(Request request, Response response, Callback callback) {}

  /** The routes; non-blocking: anything that may take time is handed to a pool. */
  private final class Routes extends Handler.Abstract.NonBlocking {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      Exchange x = new Exchange(request, response, callback);
      try {
        route(x);
      } catch (RuntimeException e) {
        fail(x, e);
      }
      return true;
    }
  }

  private void route(Exchange x) {
    String path = x.request().getHttpURI().getPath();
    if (path == null) {
      path = "/";
    }
    switch (path) {
      case "/health/live" -> {
        if (get(x)) {
          health(x, health.live(), "UP", "DOWN");
        }
      }
      case "/health/ready" -> {
        if (get(x)) {
          health(x, health.ready(), "READY", "NOT_READY");
        }
      }
      case "/metrics" -> {
        if (get(x)) {
          submit(metricsPool, x, () -> metrics(x), "a metrics scrape is already running");
        }
      }
      default -> {
        if (path.equals("/series") || path.startsWith(SERIES)) {
          if (authorized(x) && get(x)) {
            series(x, path);
          }
        } else {
          notFound(x);
        }
      }
    }
  }

  /** Runs {@code work} on {@code pool}, or answers 503 at once when the pool is full. */
  private void submit(ExecutorService pool, Exchange x, Runnable work, String busy) {
    try {
      pool.execute(
          () -> {
            try {
              work.run();
            } catch (RuntimeException e) {
              fail(x, e);
            }
          });
    } catch (RejectedExecutionException e) {
      sendError(x, 503, "busy: " + busy + "; try again shortly");
    }
  }

  private void fail(Exchange x, RuntimeException e) {
    LOG.warn("HTTP {} {} failed", x.request().getMethod(), x.request().getHttpURI().getPath(), e);
    if (x.response().isCommitted()) {
      x.callback().failed(e);
    } else {
      sendError(x, 500, "internal error: " + e);
    }
  }

  private void metrics(Exchange x) {
    byte[] body = prometheus.scrape().getBytes(StandardCharsets.UTF_8);
    x.response()
        .getHeaders()
        .put(HttpHeader.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    send(x, 200, body);
  }

  private void health(Exchange x, Health.Verdict v, String up, String down) {
    ObjectNode n = json.createObjectNode().put("status", v.ok() ? up : down);
    n.put("streams", health.streamsState());
    ModelRegistry.Handle h = registry.current();
    n.put("model", h == null ? null : h.version());
    n.put("brokerReachable", health.brokersReachable());
    n.put("millisSinceBrokerContact", health.millisSinceBrokerContact());
    if (!v.ok()) {
      n.put("reason", String.join("; ", v.reasons()));
      ArrayNode reasons = n.putArray("reasons");
      v.reasons().forEach(reasons::add);
    }
    sendJson(x, v.ok() ? 200 : 503, n);
  }

  private void notFound(Exchange x) {
    sendError(
        x,
        404,
        "no such endpoint: use /metrics, /health/live, /health/ready, /series/{id} or"
            + " /series/{id}/forecast?steps=N");
  }

  /** Whether the request may use the state API; answers 401 when not. */
  private boolean authorized(Exchange x) {
    if (tokenDigest == null) {
      return true;
    }
    String header = x.request().getHeaders().get(HttpHeader.AUTHORIZATION);
    if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      x.response().getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"stepcast\"");
      sendError(x, 401, "/series needs a bearer token: send 'Authorization: Bearer <token>'");
      return false;
    }
    // Digests of equal length compared in constant time: neither the token's content nor its
    // length leaks through the time the comparison takes.
    byte[] given = sha256(header.substring(BEARER.length()).strip());
    if (!MessageDigest.isEqual(given, tokenDigest)) {
      x.response()
          .getHeaders()
          .put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"stepcast\", error=\"invalid_token\"");
      sendError(x, 401, "the bearer token is not the one this instance expects");
      return false;
    }
    return true;
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** A parsed series request. */
  private record SeriesRequest(String id, boolean forecast, int steps, boolean local) {}

  private void series(Exchange x, String raw) {
    String rest = raw.length() <= SERIES.length() ? "" : raw.substring(SERIES.length());
    String[] parts = rest.split("/", -1);
    boolean forecast = parts.length == 2 && parts[1].equals("forecast");
    if (parts.length > 2 || (parts.length == 2 && !forecast) || parts[0].isEmpty()) {
      sendError(x, 400, "use /series/{id} or /series/{id}/forecast?steps=N");
      return;
    }
    String id;
    try {
      // '+' is a plus sign in a path, not a space.
      id = PercentDecoding.decode(parts[0], false);
    } catch (IllegalArgumentException e) {
      sendError(x, 400, "the series id is not valid percent-encoded UTF-8: " + e.getMessage());
      return;
    }
    int steps = 1;
    boolean local = false;
    String rawQuery = x.request().getHttpURI().getQuery();
    if (rawQuery != null && !rawQuery.isEmpty()) {
      for (String kv : rawQuery.split("&")) {
        int eq = kv.indexOf('=');
        String k = eq < 0 ? kv : kv.substring(0, eq);
        String v;
        try {
          v = eq < 0 ? "" : PercentDecoding.decode(kv.substring(eq + 1), true);
        } catch (IllegalArgumentException e) {
          sendError(
              x,
              400,
              "query parameter '" + k + "' is not valid percent-encoded UTF-8: " + e.getMessage());
          return;
        }
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
    SeriesRequest r = new SeriesRequest(id, forecast, steps, local);
    submit(seriesPool, x, () -> answer(x, r), "too many series queries at once");
  }

  /** Answers a series request: here, or through its owner. Runs on the series pool. */
  private void answer(Exchange x, SeriesRequest r) {
    KafkaStreams s = health.streams();
    if (s == null || s.state() != KafkaStreams.State.RUNNING) {
      sendError(
          x, 503, "the streams are " + health.streamsState() + ", not RUNNING; try again shortly");
      return;
    }
    Integer partition = null;
    if (self != null) {
      KeyQueryMetadata meta;
      try {
        meta =
            s.queryMetadataForKey(
                ForecastTopology.STATE_STORE, r.id(), Serdes.String().serializer());
      } catch (StreamsNotStartedException | IllegalStateException e) {
        sendError(
            x, 503, "the owner of series '" + r.id() + "' is not known yet: " + e.getMessage());
        return;
      }
      if (meta == null || meta.equals(KeyQueryMetadata.NOT_AVAILABLE)) {
        sendError(x, 503, "the owner of series '" + r.id() + "' is not known yet (rebalancing)");
        return;
      }
      HostInfo owner = meta.activeHost();
      if (!owner.equals(self)) {
        if (r.local()) {
          // Asked by another instance whose metadata is older than ours: do not answer 404 for a
          // series this instance does not own.
          sendError(
              x,
              503,
              "series '"
                  + r.id()
                  + "' is now owned by "
                  + OwnerClient.address(owner)
                  + "; try again");
        } else {
          forward(x, r, owner);
        }
        return;
      }
      partition = meta.partition();
    }
    SeriesState state;
    ReadOnlyKeyValueStore<Bytes, byte[]> recent = null;
    try {
      StoreQueryParameters<ReadOnlyKeyValueStore<String, SeriesState>> params =
          StoreQueryParameters.fromNameAndType(
              ForecastTopology.STATE_STORE,
              QueryableStoreTypes.<String, SeriesState>keyValueStore());
      if (partition != null) {
        params = params.withPartition(partition);
      }
      state = s.store(params).get(r.id());
      if (r.forecast()) {
        // A rolled forecast's lag features read the series' kept events (same partition).
        StoreQueryParameters<ReadOnlyKeyValueStore<Bytes, byte[]>> rows =
            StoreQueryParameters.fromNameAndType(
                ForecastTopology.RECENT_STORE, QueryableStoreTypes.<Bytes, byte[]>keyValueStore());
        recent = s.store(partition != null ? rows.withPartition(partition) : rows);
      }
    } catch (InvalidStateStoreException e) {
      // Thrown while the store is migrating or restoring: a rebalance is under way.
      sendError(
          x,
          503,
          "the state of series '"
              + r.id()
              + "' cannot be read right now ("
              + e.getMessage()
              + "); try again shortly");
      return;
    }
    if (state == null) {
      sendError(x, 404, "unknown series '" + r.id() + "'");
      return;
    }
    if (!r.forecast()) {
      ModelRegistry.Handle serving = registry.current();
      sendJson(x, 200, query.summary(r.id(), state, serving == null ? null : serving.version()));
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
                + r.id()
                + "' was made by another model (id "
                + ModelId.hex(state.modelId())
                + ") but model "
                + h.version()
                + " is serving; the series' next event rebuilds its state for it");
        return;
      }
      sendJson(x, 200, query.forecast(r.id(), state, r.steps(), h, recent));
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

  /**
   * Asks the owner and passes its answer on, asynchronously: no thread waits for the owner. When
   * the owner cannot be reached or does not answer in time (it left, or ownership is moving), the
   * answer is a 503 to retry, never a 502: the next metadata will name the new owner.
   */
  private void forward(Exchange x, SeriesRequest r, HostInfo owner) {
    // Rebuilt from the parsed request rather than copied: the owner gets a canonical URI.
    String pathAndQuery =
        SERIES
            + encode(r.id())
            + (r.forecast() ? "/forecast?steps=" + r.steps() + "&" : "?")
            + "local=true";
    CompletableFuture<OwnerClient.Answer> answer =
        owners.ask(owner, pathAndQuery, x.request().getHeaders().get(HttpHeader.AUTHORIZATION));
    if (answer == null) {
      sendError(x, 503, "busy: too many queries forwarded to other instances; try again shortly");
      return;
    }
    answer.whenComplete(
        (a, error) -> {
          try {
            if (error != null) {
              Throwable cause = error.getCause() == null ? error : error.getCause();
              LOG.debug(
                  "forwarding to {} failed: {}", OwnerClient.address(owner), cause.toString());
              sendError(
                  x,
                  503,
                  "the owner of series '"
                      + r.id()
                      + "', "
                      + OwnerClient.address(owner)
                      + ", did not answer ("
                      + cause.getClass().getSimpleName()
                      + "); it may have left and ownership be moving: try again shortly");
              return;
            }
            x.response().getHeaders().put(HttpHeader.CONTENT_TYPE, a.contentType());
            x.response().getHeaders().put(OWNER_HEADER, OwnerClient.address(owner));
            if (a.status() == 503) {
              x.response().getHeaders().put(HttpHeader.RETRY_AFTER, RETRY_AFTER_SECONDS);
            }
            send(x, a.status(), a.body());
          } catch (RuntimeException e) {
            fail(x, e);
          }
        });
  }

  private boolean get(Exchange x) {
    if (!"GET".equals(x.request().getMethod())) {
      x.response().getHeaders().put(HttpHeader.ALLOW, "GET");
      sendError(x, 405, "only GET is supported");
      return false;
    }
    return true;
  }

  private void sendError(Exchange x, int code, String message) {
    if (code == 503) {
      x.response().getHeaders().put(HttpHeader.RETRY_AFTER, RETRY_AFTER_SECONDS);
    }
    sendJson(x, code, json.createObjectNode().put("status", code).put("error", message));
  }

  private void sendJson(Exchange x, int code, ObjectNode body) {
    x.response().getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
    try {
      send(x, code, json.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  private static void send(Exchange x, int code, byte[] body) {
    x.response().setStatus(code);
    x.response().getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    x.response().write(true, ByteBuffer.wrap(body), x.callback());
  }

  /** URL-encodes a series id for a path segment. */
  public static String encode(String id) {
    return URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Override
  public void close() {
    server.close();
    seriesPool.shutdownNow();
    metricsPool.shutdownNow();
    owners.close();
    LOG.debug("http api stopped");
  }
}
