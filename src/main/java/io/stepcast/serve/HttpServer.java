package io.stepcast.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.ConfigException;
import java.io.IOException;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToLongFunction;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.IdleTimeout;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The HTTP server under {@link HttpApi}: Jetty 12 with its core handler API (no servlets), set up
 * so that no client can block it.
 *
 * <p>Why Jetty and not the JDK's {@code com.sun.net.httpserver}: the JDK server reads a request on
 * a pool thread, blocking, so a few idle connections that send half a request hold the whole pool
 * (and {@code /health/live} with it) for as long as they stay open; its only timeouts are JVM-wide
 * system properties ({@code sun.net.httpserver.maxReqTime}) that still hold a thread per slow
 * connection until they fire, and it has no connection limit. Jetty parses requests as bytes arrive
 * on its selector, so a slow or silent client costs a connection slot and no thread, and it gives
 * per-connector idle timeouts, a connection limit and a bounded thread pool.
 *
 * <ul>
 *   <li>{@link #IDLE_TIMEOUT}: a connection that neither sends nor accepts a byte for this long is
 *       closed, whatever it is doing: half a request line, headers without the blank line, a POST
 *       whose body never comes, a client that does not read its answer, a keep-alive connection.
 *   <li>{@link #MAX_CONNECTIONS}: a new connection beyond it closes the open connection that has
 *       been silent longest. The server never stops accepting, so a crowd of silent or slow
 *       connections cannot keep a probe out: it would have to be more active than the probe.
 *       (Jetty's own {@code NetworkConnectionLimit} stops accepting at the limit instead, and a
 *       probe then waits in the kernel's queue behind the crowd, about a second per connection.)
 *   <li>{@link #MAX_THREADS}: Jetty's own pool; handlers never block on it (the state API runs on
 *       its own bounded pool, see {@link HttpApi}), so slow clients cannot exhaust it.
 *   <li>Request line and headers at most {@link #MAX_HEADER_BYTES} (414 or 431 beyond).
 *   <li>Every answer is JSON, including the ones Jetty writes itself (400 for a request it cannot
 *       parse, 414, 431, 500).
 * </ul>
 */
final class HttpServer implements AutoCloseable {
  /** How long a connection may make no progress, reading or writing. */
  static final Duration IDLE_TIMEOUT = Duration.ofSeconds(10);

  /** Open connections at most; a new one beyond closes the one silent longest. */
  static final int MAX_CONNECTIONS = 128;

  /** Jetty's threads at most (one acceptor and one selector among them). */
  static final int MAX_THREADS = 8;

  /** Request line plus headers, at most. */
  static final int MAX_HEADER_BYTES = 8 * 1024;

  private final Server server;
  private final ServerConnector connector;

  /**
   * Binds and starts the server.
   *
   * @param bindAddress the address to listen on; null or blank for every interface
   * @param port the port, 0 for any free one
   * @throws ConfigException when the address cannot be bound (port in use, no such address)
   */
  HttpServer(String bindAddress, int port, Handler handler, ObjectMapper json) {
    QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 2);
    threads.setName("stepcast-http");
    threads.setDaemon(true);
    this.server = new Server(threads);
    HttpConfiguration config = new HttpConfiguration();
    config.setSendServerVersion(false);
    config.setSendXPoweredBy(false);
    config.setRequestHeaderSize(MAX_HEADER_BYTES);
    // Series ids may contain any character, '/' and '%' included: the API decodes the raw path
    // itself (HttpApi), so encoded separators are data here, not an ambiguity to refuse.
    config.setUriCompliance(
        UriCompliance.DEFAULT.with(
            "stepcast",
            UriCompliance.Violation.AMBIGUOUS_PATH_SEPARATOR,
            UriCompliance.Violation.AMBIGUOUS_PATH_ENCODING,
            UriCompliance.Violation.AMBIGUOUS_EMPTY_SEGMENT,
            UriCompliance.Violation.AMBIGUOUS_PATH_SEGMENT,
            UriCompliance.Violation.BAD_PERCENT_ENCODING,
            UriCompliance.Violation.BAD_UTF8_ENCODING,
            UriCompliance.Violation.TRUNCATED_UTF8_ENCODING));
    this.connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(config));
    connector.setHost(bindAddress == null || bindAddress.isBlank() ? null : bindAddress.trim());
    connector.setPort(port);
    connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
    connector.setAcceptQueueSize(128);
    server.addConnector(connector);
    connector.addBean(new EvictMostIdle(connector));
    server.setErrorHandler(new JsonErrors(json));
    server.setHandler(handler);
    server.setStopTimeout(2_000);
    try {
      server.start();
    } catch (Exception e) {
      stopQuietly();
      throw bindError(bindAddress, port, e);
    }
  }

  private static RuntimeException bindError(String bindAddress, int port, Exception e) {
    String where =
        (bindAddress == null || bindAddress.isBlank() ? "all interfaces" : bindAddress)
            + ", port "
            + port;
    Throwable cause = e;
    while (cause != null && !(cause instanceof BindException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof BindException || e instanceof IOException) {
      return new ConfigException(
          "--http-port / --http-bind-address",
          "http",
          "cannot listen on " + where + ": " + (cause == null ? e : cause).getMessage(),
          "choose a free port with --http-port (STEPCAST_HTTP_PORT), or an address of this host"
              + " with --http-bind-address (STEPCAST_HTTP_BIND_ADDRESS; empty: all interfaces)");
    }
    return new IllegalStateException("the HTTP server did not start on " + where, e);
  }

  /** The bound port (useful with port 0). */
  int port() {
    return connector.getLocalPort();
  }

  private void stopQuietly() {
    try {
      server.stop();
    } catch (Exception ignored) {
      // Already failing; the start error is the one to report.
    }
  }

  @Override
  public void close() {
    stopQuietly();
  }

  /**
   * Keeps the connections at {@link #MAX_CONNECTIONS} by closing, for each new one beyond it, the
   * one that has been silent longest (neither read nor written).
   */
  static final class EvictMostIdle implements SelectorManager.AcceptListener {
    private final AbstractConnector connector;

    EvictMostIdle(AbstractConnector connector) {
      this.connector = connector;
    }

    @Override
    public void onAccepted(SelectableChannel channel) {
      // Open ones only: a closed endpoint stays in the list for a moment, and counting it would
      // evict more than needed on the next accept.
      List<EndPoint> open = new ArrayList<>();
      for (EndPoint e : connector.getConnectedEndPoints()) {
        if (e.isOpen()) {
          open.add(e);
        }
      }
      int excess = open.size() + 1 - MAX_CONNECTIONS;
      if (excess <= 0) {
        return;
      }
      for (EndPoint victim : mostIdle(open, EvictMostIdle::idleFor, excess)) {
        victim.close();
      }
    }

    /**
     * The {@code n} items idle the longest, longest first. Each item's idle time is read once: they
     * keep changing while the connections live, and a sort that reads them again could see an
     * inconsistent order (TimSort then throws "Comparison method violates its general contract!" on
     * the acceptor thread).
     */
    static <T> List<T> mostIdle(List<T> items, ToLongFunction<T> idleFor, int n) {
      int size = items.size();
      long[] idle = new long[size];
      Integer[] order = new Integer[size];
      for (int i = 0; i < size; i++) {
        idle[i] = idleFor.applyAsLong(items.get(i));
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> Long.compare(idle[b], idle[a]));
      List<T> out = new ArrayList<>(Math.min(Math.max(n, 0), size));
      for (int i = 0; i < Math.min(n, size); i++) {
        out.add(items.get(order[i]));
      }
      return out;
    }

    private static long idleFor(EndPoint e) {
      return e instanceof IdleTimeout t ? t.getIdleFor() : 0;
    }
  }

  /**
   * The answers Jetty writes itself (a request it cannot parse, a header too large, an exception
   * out of a handler) as the API's JSON error object instead of an HTML page.
   */
  private static final class JsonErrors extends ErrorHandler {
    private final ObjectMapper json;

    JsonErrors(ObjectMapper json) {
      this.json = json;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      int code = response.getStatus();
      String message = (String) request.getAttribute(ERROR_MESSAGE);
      Throwable cause = (Throwable) request.getAttribute(ERROR_EXCEPTION);
      if (cause instanceof HttpException h) {
        code = h.getCode();
        response.setStatus(code);
        if (message == null) {
          message = h.getReason();
        }
      }
      // Jetty's parser refuses a bad percent-escape itself, before any handler, as a bare "Bad
      // Request" caused by a NumberFormatException: say what was wrong.
      for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
        if (t instanceof NumberFormatException && code == HttpStatus.BAD_REQUEST_400) {
          message =
              "the request target is not valid percent-encoded UTF-8: a '%' must be followed by"
                  + " two hexadecimal digits";
        }
      }
      if (HttpStatus.hasNoBody(code)) {
        callback.succeeded();
        return true;
      }
      response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, HttpApi.JSON_TYPE);
      response.write(true, ByteBuffer.wrap(body(code, message)), callback);
      return true;
    }

    private byte[] body(int code, String message) {
      String reason = HttpStatus.getMessage(code);
      String text =
          message == null || message.isBlank() || message.equals(reason)
              ? reason
              : reason + ": " + message;
      try {
        return json.writeValueAsBytes(
            json.createObjectNode().put("status", code).put("error", text));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
