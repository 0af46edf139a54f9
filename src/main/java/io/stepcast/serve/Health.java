package io.stepcast.serve;

import io.stepcast.model.ModelRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code /health/live} and {@code /health/ready} answer, with the reasons.
 *
 * <p><b>Ready</b> means this instance can make progress now: Kafka Streams is RUNNING, a model is
 * serving, its model sources work ({@link ModelRegistry#healthReason}), the brokers answer, and
 * every registered check is fine. Each failing condition adds one reason to the answer.
 *
 * <p><b>Live</b> fails only for a wedged process, one that a restart would cure and waiting would
 * not: Kafka Streams in ERROR (a stream thread died and shut the client down), or this class's own
 * check thread not having completed a round for {@link #WEDGED_AFTER}. A broker outage is not a
 * liveness failure: restarting every pod because the brokers are down helps nobody.
 *
 * <p>How the brokers are checked: an {@link Admin#describeCluster} with a {@link #BROKER_TIMEOUT}
 * every {@link #BROKER_INTERVAL}, on a thread of its own, with the instance's own client settings
 * (security included); not ready when none has succeeded for {@link #BROKER_UNREACHABLE_AFTER}. The
 * alternative, the stream threads' consumer metrics (time since the last poll or heartbeat), was
 * not taken: their names depend on the group protocol, an instance waiting for its first model has
 * no consumers yet, and they cannot say which servers were tried. The probe costs one metadata
 * request every few seconds.
 *
 * <p>The answers are computed from fields the check thread and Kafka Streams keep up to date, so a
 * probe never waits on a broker or a lock.
 */
public final class Health implements AutoCloseable {
  /** How often the brokers are asked. */
  static final Duration BROKER_INTERVAL = Duration.ofSeconds(3);

  /** How long one broker check may take. */
  static final Duration BROKER_TIMEOUT = Duration.ofSeconds(5);

  /** Not ready when no broker check has succeeded for this long. */
  static final Duration BROKER_UNREACHABLE_AFTER = Duration.ofSeconds(10);

  /** Not live when the check thread has not completed a round for this long. */
  static final Duration WEDGED_AFTER = Duration.ofSeconds(60);

  private static final Logger LOG = LoggerFactory.getLogger(Health.class);

  /** One answer: healthy or not, and why not (empty when healthy). */
  public record Verdict(boolean ok, List<String> reasons) {}

  private record Check(String name, Supplier<String> problem) {}

  private final ModelRegistry registry;
  private final String bootstrapServers;
  private final Admin admin;
  private final ScheduledExecutorService checker;
  private final List<Check> checks = new CopyOnWriteArrayList<>();
  private volatile KafkaStreams streams;
  private volatile long lastBrokerContact;
  private volatile String lastBrokerError;
  private volatile long lastRound;

  /**
   * Starts the broker check.
   *
   * @param adminConfig the admin client's configuration (bootstrap servers and client settings)
   */
  public Health(ModelRegistry registry, Map<String, Object> adminConfig) {
    this.registry = registry;
    this.bootstrapServers = String.valueOf(adminConfig.get("bootstrap.servers"));
    this.admin = Admin.create(adminConfig);
    long now = System.nanoTime();
    // The instance reached the brokers a moment ago (it created its topics), so it starts ready
    // as far as they are concerned.
    this.lastBrokerContact = now;
    this.lastRound = now;
    this.checker =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("stepcast-health"));
    checker.scheduleWithFixedDelay(
        this::checkBrokers, 0, BROKER_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Hands over the Kafka Streams client once it exists. */
  public void attach(KafkaStreams streams) {
    this.streams = streams;
  }

  /** The Kafka Streams client, or null before it exists. */
  public KafkaStreams streams() {
    return streams;
  }

  /**
   * Adds a condition for readiness, for example that a model source is alive.
   *
   * @param name what is checked, shown with the reason
   * @param problem returns null when fine, else what is wrong (called on every readiness probe: it
   *     must be cheap and must not block)
   */
  public void addReadinessCheck(String name, Supplier<String> problem) {
    checks.add(new Check(name, problem));
  }

  /** The state of Kafka Streams, or NOT_CREATED before the client exists. */
  public String streamsState() {
    KafkaStreams s = streams;
    return s == null ? "NOT_CREATED" : s.state().name();
  }

  /** Whether the brokers answered a check within {@link #BROKER_UNREACHABLE_AFTER}. */
  public boolean brokersReachable() {
    return System.nanoTime() - lastBrokerContact < BROKER_UNREACHABLE_AFTER.toNanos();
  }

  /** Milliseconds since the brokers last answered a check. */
  public long millisSinceBrokerContact() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastBrokerContact);
  }

  /** Whether the process works: see the class comment. */
  public Verdict live() {
    List<String> reasons = new ArrayList<>();
    KafkaStreams s = streams;
    KafkaStreams.State state = s == null ? null : s.state();
    if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR) {
      reasons.add("the streams are " + state + ": a stream thread failed (see the log)");
    }
    long sinceRound = System.nanoTime() - lastRound;
    if (sinceRound > WEDGED_AFTER.toNanos()) {
      reasons.add(
          "the health check thread has not run for "
              + TimeUnit.NANOSECONDS.toSeconds(sinceRound)
              + " s");
    }
    return new Verdict(reasons.isEmpty(), List.copyOf(reasons));
  }

  /** Whether the instance can make progress now: see the class comment. */
  public Verdict ready() {
    List<String> reasons = new ArrayList<>();
    KafkaStreams s = streams;
    ModelRegistry.Handle h = registry.current();
    if (h == null) {
      String refused = registry.lastRefusal();
      reasons.add(
          "waiting for a model on the model topic or in the model directory"
              + (refused == null ? "" : " (last refused: " + refused + ")"));
    }
    String sources = registry.healthReason();
    if (sources != null) {
      reasons.add(sources);
    }
    if (s == null) {
      if (h != null) {
        reasons.add("the streams are not started yet");
      }
    } else if (s.state() != KafkaStreams.State.RUNNING) {
      reasons.add(
          "the streams are "
              + s.state()
              + ", not RUNNING"
              + (s.state() == KafkaStreams.State.REBALANCING ? " (rebalancing or restoring)" : ""));
    }
    if (!brokersReachable()) {
      String error = lastBrokerError;
      reasons.add(
          "cannot reach the Kafka brokers at "
              + bootstrapServers
              + " for "
              + millisSinceBrokerContact() / 1000
              + " s"
              + (error == null ? "" : ": " + error));
    }
    for (Check c : checks) {
      String problem;
      try {
        problem = c.problem().get();
      } catch (RuntimeException e) {
        problem = "its check failed: " + e;
      }
      if (problem != null) {
        reasons.add(c.name() + ": " + problem);
      }
    }
    return new Verdict(reasons.isEmpty(), List.copyOf(reasons));
  }

  private void checkBrokers() {
    try {
      admin
          .describeCluster(new DescribeClusterOptions().timeoutMs((int) BROKER_TIMEOUT.toMillis()))
          .clusterId()
          .get(BROKER_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
      if (lastBrokerError != null) {
        LOG.info("the Kafka brokers at {} answer again", bootstrapServers);
      }
      lastBrokerContact = System.nanoTime();
      lastBrokerError = null;
    } catch (ExecutionException e) {
      brokerFailed(e.getCause() == null ? e : e.getCause());
    } catch (TimeoutException e) {
      brokerFailed(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // Never let the check thread die: a scheduled task that throws is not run again.
      brokerFailed(e);
    } finally {
      lastRound = System.nanoTime();
    }
  }

  private void brokerFailed(Throwable e) {
    String error = e.getClass().getSimpleName() + ": " + e.getMessage();
    if (lastBrokerError == null) {
      LOG.warn("cannot reach the Kafka brokers at {}: {}", bootstrapServers, error);
    }
    lastBrokerError = error;
  }

  @Override
  public void close() {
    checker.shutdownNow();
    try {
      checker.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    admin.close(Duration.ofSeconds(5));
  }
}
