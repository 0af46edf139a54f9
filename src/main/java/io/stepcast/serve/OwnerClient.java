package io.stepcast.serve;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Asks the instance that owns a series for it, on behalf of a client that asked this one. Bounded
 * in time (connect and answer timeouts) and in number (at most {@link #MAX_IN_FLIGHT} at once), and
 * asynchronous, so two instances asking each other never wait on each other's threads.
 */
final class OwnerClient implements AutoCloseable {
  /** How long opening a connection to the owner may take. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

  /** How long the owner may take to answer. */
  static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);

  /** Forwarded queries in flight at most; more are refused with a 503. */
  static final int MAX_IN_FLIGHT = 64;

  /** The owner's answer, passed on as it is. */
  record Answer(int status, String contentType, byte[] body) {}

  private final ExecutorService executor;
  private final HttpClient client;
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);

  OwnerClient() {
    this.executor = Executors.newFixedThreadPool(2, DaemonThreads.named("stepcast-forward"));
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(CONNECT_TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(executor)
            .build();
  }

  /**
   * Asks {@code owner} for {@code pathAndQuery} (raw, as received). Completes with the answer, or
   * exceptionally when the owner cannot be reached or does not answer in time; returns null when
   * too many queries are in flight already.
   *
   * @param authorization the caller's Authorization header, passed on (null for none)
   */
  CompletableFuture<Answer> ask(HostInfo owner, String pathAndQuery, String authorization) {
    if (!inFlight.tryAcquire()) {
      return null;
    }
    CompletableFuture<Answer> answer;
    try {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create("http://" + address(owner) + pathAndQuery))
              .timeout(ANSWER_TIMEOUT)
              .header("Accept", HttpApi.JSON_TYPE)
              .GET();
      if (authorization != null) {
        b.header("Authorization", authorization);
      }
      answer =
          client
              .sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray())
              .thenApply(
                  r ->
                      new Answer(
                          r.statusCode(),
                          r.headers().firstValue("Content-Type").orElse(HttpApi.JSON_TYPE),
                          r.body()));
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    return answer.whenComplete((a, e) -> inFlight.release());
  }

  static String address(HostInfo h) {
    return h.host() + ":" + h.port();
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
