package io.stepcast.kafka;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import kafka.server.BrokerServer;
import kafka.server.ControllerServer;
import kafka.server.FaultHandlerFactory;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.server.Server;
import kafka.server.SharedServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.metadata.properties.MetaPropertiesEnsemble;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.ServerSocketFactory;
import org.apache.kafka.server.fault.FaultHandler;
import org.apache.kafka.server.fault.FaultHandlerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * A single-node Kafka 4.3 cluster (one process in the combined broker and controller KRaft roles)
 * running inside this JVM.
 *
 * <p>It exists so that stepcast runs, demos and integration tests need no external Kafka: the CLI
 * starts one on a data directory and the app talks to it over loopback like to any cluster.
 * Everything a single node needs for Kafka Streams with {@code exactly_once_v2} is preset (internal
 * topics with replication factor and min ISR 1, no initial rebalance delay), records up to {@link
 * #DEFAULT_MAX_MESSAGE_BYTES} are accepted so that ONNX models fit in one record, and the data
 * directory is formatted on first start and reused on later ones, so a restarted broker keeps its
 * topics, offsets and transactions.
 *
 * <p>The node is assembled the way {@code kafka.server.KafkaRaftServer} does it, with two
 * differences that matter when the broker shares the JVM with an application: a fatal broker fault
 * is logged and reported by {@link #fatalFault()} instead of halting the JVM, and the listener
 * sockets are bound before the configuration is written, so free ports are chosen without a race.
 * Listeners bind to 127.0.0.1 only.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

  /** Largest record the broker accepts by default (16 MiB): room for multi-megabyte models. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

  /** The node id of the single node; stored in {@code meta.properties} on first start. */
  public static final int NODE_ID = 1;

  /** Name of the directory under the data directory that holds the partitions and metadata log. */
  public static final String LOG_DIR_NAME = "kraft-combined-logs";

  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
  private static final String HOST = "127.0.0.1";
  private static final String BROKER_LISTENER = "PLAINTEXT";
  private static final String CONTROLLER_LISTENER = "CONTROLLER";

  /** Keys that this class owns: they follow from the ports and the data directory. */
  private static final Set<String> RESERVED_KEYS =
      Set.of(
          "process.roles",
          "node.id",
          "broker.id",
          "controller.quorum.voters",
          "controller.quorum.bootstrap.servers",
          "listeners",
          "advertised.listeners",
          "listener.security.protocol.map",
          "controller.listener.names",
          "inter.broker.listener.name",
          "log.dir",
          "log.dirs",
          "metadata.log.dir");

  private final Path dataDir;
  private final boolean deleteOnClose;
  private final ControllerServer controller;
  private final BrokerServer broker;
  private final int port;
  private final int controllerPort;
  private final Duration startupDuration;
  private final boolean formatted;
  private final AtomicReference<RuntimeException> fatalFault;
  private final Object closeLock = new Object();
  private boolean closed;

  private EmbeddedKafkaBroker(
      Path dataDir,
      boolean deleteOnClose,
      ControllerServer controller,
      BrokerServer broker,
      int port,
      int controllerPort,
      Duration startupDuration,
      boolean formatted,
      AtomicReference<RuntimeException> fatalFault) {
    this.dataDir = dataDir;
    this.deleteOnClose = deleteOnClose;
    this.controller = controller;
    this.broker = broker;
    this.port = port;
    this.controllerPort = controllerPort;
    this.startupDuration = startupDuration;
    this.formatted = formatted;
    this.fatalFault = fatalFault;
  }

  /**
   * Starts a broker on {@code dataDir} (created and formatted when new, reused otherwise) with free
   * loopback ports and the default settings.
   */
  public static EmbeddedKafkaBroker start(Path dataDir) {
    return builder(dataDir).start();
  }

  /**
   * Starts a broker on {@code dataDir} with extra broker properties, which override the defaults
   * (for example {@code log.retention.ms}); the listener, quorum and directory keys are owned by
   * this class and rejected.
   */
  public static EmbeddedKafkaBroker start(Path dataDir, Map<String, String> brokerProperties) {
    return builder(dataDir).properties(brokerProperties).start();
  }

  /** A builder for the less common options: fixed ports, delete on close. */
  public static Builder builder(Path dataDir) {
    return new Builder(dataDir);
  }

  /** The broker settings used unless overridden: what a single node needs, tuned for 2 cores. */
  public static Map<String, String> defaultBrokerProperties() {
    Map<String, String> p = new LinkedHashMap<>();
    // Internal topics default to replication factor 3 and min ISR 2: unsatisfiable on one node,
    // and the group or transaction coordinator then never loads (consumers and EOS hang).
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "5");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "5");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("default.replication.factor", "1");
    p.put("min.insync.replicas", "1");
    p.put("num.partitions", "1");
    // A single member would otherwise wait 3 s before its first assignment.
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("message.max.bytes", Integer.toString(DEFAULT_MAX_MESSAGE_BYTES));
    p.put("replica.fetch.max.bytes", Integer.toString(DEFAULT_MAX_MESSAGE_BYTES));
    // The cleaner's dedupe buffer defaults to 128 MiB of heap; compacted topics here are small.
    p.put("log.cleaner.dedupe.buffer.size", Integer.toString(4 * 1024 * 1024));
    p.put("log.cleaner.threads", "1");
    p.put("num.network.threads", "2");
    p.put("num.io.threads", "4");
    p.put("background.threads", "4");
    p.put("num.recovery.threads.per.data.dir", "1");
    p.put("num.replica.fetchers", "1");
    p.put("server.max.startup.time.ms", Long.toString(Duration.ofMinutes(2).toMillis()));
    return p;
  }

  /** The address clients use: {@code 127.0.0.1:port}. */
  public String bootstrapServers() {
    return HOST + ":" + port;
  }

  /** The port of the client listener. */
  public int port() {
    return port;
  }

  /** The port of the KRaft controller listener (not for clients). */
  public int controllerPort() {
    return controllerPort;
  }

  /** The directory this broker owns. */
  public Path dataDir() {
    return dataDir;
  }

  /** Whether this start formatted a new data directory (false when it reused one). */
  public boolean formattedOnStart() {
    return formatted;
  }

  /** Wall time from {@link Builder#start()} until the broker accepted clients. */
  public Duration startupDuration() {
    return startupDuration;
  }

  /**
   * The first fatal fault the broker reported, if any. A standalone broker halts its JVM on such a
   * fault; this one keeps the JVM alive and reports it here (and at ERROR in the log).
   */
  public Optional<RuntimeException> fatalFault() {
    return Optional.ofNullable(fatalFault.get());
  }

  /**
   * Shuts the broker down cleanly (broker first, then controller, as Kafka does in combined mode)
   * and waits for it. Deletes the data directory only when built with {@code deleteOnClose}.
   * Idempotent.
   */
  @Override
  public void close() {
    synchronized (closeLock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    long started = System.nanoTime();
    try {
      broker.shutdown();
      broker.awaitShutdown();
    } catch (RuntimeException e) {
      log.warn("Embedded Kafka broker did not shut down cleanly", e);
    }
    try {
      controller.shutdown();
      controller.awaitShutdown();
    } catch (RuntimeException e) {
      log.warn("Embedded Kafka controller did not shut down cleanly", e);
    }
    log.info(
        "Embedded Kafka at {} stopped in {} ms",
        bootstrapServers(),
        Duration.ofNanos(System.nanoTime() - started).toMillis());
    if (deleteOnClose) {
      deleteRecursively(dataDir);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedKafkaBroker[" + bootstrapServers() + ", " + dataDir + "]";
  }

  private static boolean isFormatted(Path logDir) {
    return Files.exists(logDir.resolve(MetaPropertiesEnsemble.META_PROPERTIES_NAME));
  }

  private static void format(Path logDir) {
    String clusterId = Uuid.randomUuid().toString();
    // The Formatter prints progress lines; the broker has nothing to tell the user here.
    try (PrintStream quiet =
        new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8)) {
      new Formatter()
          .setPrintStream(quiet)
          .setNodeId(NODE_ID)
          .setClusterId(clusterId)
          .setControllerListenerName(CONTROLLER_LISTENER)
          .setMetadataLogDirectory(logDir.toString())
          .setDirectories(List.of(logDir.toString()))
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("Cannot format Kafka storage in " + logDir, e);
    }
    log.debug("Formatted Kafka storage in {} with cluster id {}", logDir, clusterId);
  }

  private static ServerSocketChannel bind(int port, String purpose) {
    ServerSocketChannel channel = null;
    try {
      channel = ServerSocketChannel.open();
      channel.configureBlocking(false);
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(new InetSocketAddress(HOST, port), 50);
      return channel;
    } catch (IOException e) {
      closeQuietly(channel);
      throw new UncheckedIOException(
          "Cannot bind the embedded Kafka " + purpose + " listener to " + HOST + ":" + port, e);
    }
  }

  private static void closeQuietly(ServerSocketChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        log.debug("Closing an unused listener socket failed", e);
      }
    }
  }

  /** Deletes a directory tree; a failure is logged, not thrown (scratch and test directories). */
  public static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.delete(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc)
                throws IOException {
              Files.delete(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      log.warn("Could not delete the embedded Kafka data directory {}", root, e);
    }
  }

  /**
   * Hands the pre-bound listener sockets to Kafka's socket server (each once) and lets Kafka open
   * any other listener itself.
   */
  private static final class PreboundSocketFactory implements ServerSocketFactory {
    private final Map<String, ServerSocketChannel> channels = new ConcurrentHashMap<>();

    void put(String listener, ServerSocketChannel channel) {
      channels.put(listener, channel);
    }

    @Override
    public ServerSocketChannel openServerSocket(
        String listenerName, InetSocketAddress address, int backlog, int receiveBufferSize)
        throws IOException {
      ServerSocketChannel channel = channels.remove(listenerName);
      if (channel == null) {
        return ServerSocketFactory.INSTANCE.openServerSocket(
            listenerName, address, backlog, receiveBufferSize);
      }
      if (receiveBufferSize > 0) {
        channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBufferSize);
      }
      return channel;
    }

    void closeUnused() {
      channels.values().forEach(EmbeddedKafkaBroker::closeQuietly);
      channels.clear();
    }
  }

  /**
   * Logs faults and records the first fatal one instead of halting the JVM the way Kafka's standard
   * factory does.
   */
  private static final class ReportingFaultHandlerFactory implements FaultHandlerFactory {
    private final AtomicReference<RuntimeException> fatalFault;

    ReportingFaultHandlerFactory(AtomicReference<RuntimeException> fatalFault) {
      this.fatalFault = fatalFault;
    }

    @Override
    public FaultHandler build(String name, boolean fatal, Runnable action) {
      return (failureMessage, cause) -> {
        FaultHandlerException fault =
            new FaultHandlerException(name + ": " + failureMessage, cause);
        if (fatal) {
          log.error("Embedded Kafka fatal fault in {}: {}", name, failureMessage, cause);
          fatalFault.compareAndSet(null, fault);
        } else {
          log.error("Embedded Kafka fault in {}: {}", name, failureMessage, cause);
        }
        if (action != null) {
          action.run();
        }
        return fault;
      };
    }
  }

  /** Options for {@link EmbeddedKafkaBroker}; {@link #start()} formats if needed and starts. */
  public static final class Builder {
    private final Path dataDir;
    private final Map<String, String> properties = new HashMap<>();
    private int port;
    private int controllerPort;
    private boolean deleteOnClose;

    private Builder(Path dataDir) {
      this.dataDir = Objects.requireNonNull(dataDir, "dataDir").toAbsolutePath();
    }

    /** Sets one broker property, overriding {@link #defaultBrokerProperties()}. */
    public Builder property(String key, String value) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      if (RESERVED_KEYS.contains(key)) {
        throw new IllegalArgumentException(
            "broker property '"
                + key
                + "' is set by EmbeddedKafkaBroker from its ports and data directory;"
                + " use Builder.port(int) or a different data directory instead");
      }
      properties.put(key, value);
      return this;
    }

    /** Sets several broker properties; see {@link #property(String, String)}. */
    public Builder properties(Map<String, String> brokerProperties) {
      brokerProperties.forEach(this::property);
      return this;
    }

    /** The client port; 0 (the default) picks a free one. */
    public Builder port(int port) {
      this.port = checkPort(port);
      return this;
    }

    /** The controller port; 0 (the default) picks a free one. */
    public Builder controllerPort(int controllerPort) {
      this.controllerPort = checkPort(controllerPort);
      return this;
    }

    /** Deletes the data directory after {@link EmbeddedKafkaBroker#close()} (for tests). */
    public Builder deleteOnClose(boolean deleteOnClose) {
      this.deleteOnClose = deleteOnClose;
      return this;
    }

    /**
     * Formats the data directory if it is new, binds the listeners and starts the node; returns
     * once the broker is unfenced and accepts clients.
     *
     * @throws IllegalStateException when the broker cannot start (the cause says why)
     * @throws UncheckedIOException when a listener port cannot be bound
     */
    public EmbeddedKafkaBroker start() {
      long started = System.nanoTime();
      Path logDir = dataDir.resolve(LOG_DIR_NAME);
      try {
        Files.createDirectories(logDir);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot create the Kafka data directory " + logDir, e);
      }
      boolean formatted = false;
      if (!isFormatted(logDir)) {
        format(logDir);
        formatted = true;
      }

      PreboundSocketFactory sockets = new PreboundSocketFactory();
      ServerSocketChannel brokerChannel = bind(port, "client");
      ServerSocketChannel controllerChannel;
      try {
        controllerChannel = bind(controllerPort, "controller");
      } catch (RuntimeException e) {
        closeQuietly(brokerChannel);
        throw e;
      }
      int boundPort = brokerChannel.socket().getLocalPort();
      int boundControllerPort = controllerChannel.socket().getLocalPort();
      sockets.put(BROKER_LISTENER, brokerChannel);
      sockets.put(CONTROLLER_LISTENER, controllerChannel);

      AtomicReference<RuntimeException> fatalFault = new AtomicReference<>();
      ControllerServer controller = null;
      BrokerServer broker = null;
      try {
        KafkaConfig config = config(logDir, boundPort, boundControllerPort);
        Tuple2<MetaPropertiesEnsemble, BootstrapMetadata> dirs =
            KafkaRaftServer.initializeLogDirs(config, log, "[embedded-kafka] ");
        MetaPropertiesEnsemble meta = dirs._1();
        String clusterId =
            meta.clusterId()
                .orElseThrow(() -> new IllegalStateException("no cluster id in " + logDir));
        Metrics metrics = Server.initializeMetrics(config, Time.SYSTEM, clusterId);
        SharedServer shared =
            new SharedServer(
                config,
                meta,
                Time.SYSTEM,
                metrics,
                CompletableFuture.completedFuture(
                    Map.of(NODE_ID, new InetSocketAddress(HOST, boundControllerPort))),
                List.of(),
                new ReportingFaultHandlerFactory(fatalFault),
                sockets);
        controller = new ControllerServer(shared, KafkaRaftServer.configSchema(), dirs._2());
        broker = new BrokerServer(shared);
        // The controller starts first so that the broker finds its endpoint (as in
        // KafkaRaftServer).
        controller.startup();
        broker.startup();
        int actualPort = broker.boundPort(ListenerName.normalised(BROKER_LISTENER));
        if (actualPort != boundPort) {
          throw new IllegalStateException(
              "broker listener bound to " + actualPort + " instead of " + boundPort);
        }
      } catch (RuntimeException e) {
        if (broker != null) {
          safely(broker::shutdown);
        }
        if (controller != null) {
          safely(controller::shutdown);
        }
        sockets.closeUnused();
        throw new IllegalStateException("Cannot start the embedded Kafka broker in " + dataDir, e);
      }
      sockets.closeUnused();
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      EmbeddedKafkaBroker result =
          new EmbeddedKafkaBroker(
              dataDir,
              deleteOnClose,
              controller,
              broker,
              boundPort,
              boundControllerPort,
              took,
              formatted,
              fatalFault);
      log.info(
          "Embedded Kafka started at {} on {} in {} ms{}",
          result.bootstrapServers(),
          dataDir,
          took.toMillis(),
          formatted ? " (new data directory)" : "");
      return result;
    }

    private KafkaConfig config(Path logDir, int brokerPort, int ctrlPort) {
      Map<String, String> p = defaultBrokerProperties();
      p.putAll(properties);
      p.put("process.roles", "broker,controller");
      p.put("node.id", Integer.toString(NODE_ID));
      // A static voter set: unlike a dynamic quorum, it stores no endpoint in the metadata log,
      // so a restart on the same directory may use new ports.
      p.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + ctrlPort);
      p.put(
          "listeners",
          BROKER_LISTENER
              + "://"
              + HOST
              + ":"
              + brokerPort
              + ","
              + CONTROLLER_LISTENER
              + "://"
              + HOST
              + ":"
              + ctrlPort);
      p.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + brokerPort);
      p.put(
          "listener.security.protocol.map",
          BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
      p.put("controller.listener.names", CONTROLLER_LISTENER);
      p.put("inter.broker.listener.name", BROKER_LISTENER);
      p.put("log.dirs", logDir.toString());
      p.put("metadata.log.dir", logDir.toString());
      return new KafkaConfig(p, false);
    }

    private static void safely(Runnable action) {
      try {
        action.run();
      } catch (RuntimeException e) {
        log.debug("Cleanup after a failed start failed", e);
      }
    }

    private static int checkPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0 (any free port) or 1..65535: " + port);
      }
      return port;
    }
  }
}
