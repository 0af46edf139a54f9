package io.stepcast.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.stepcast.config.ConfigException;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.ClusterPreflight;
import io.stepcast.kafka.ModelTopic;
import io.stepcast.kafka.Topics;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ExecutionProvider;
import io.stepcast.model.ExecutionProviderException;
import io.stepcast.model.ModelException;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.OrtSupport;
import io.stepcast.topology.ForecastTopology;
import io.stepcast.topology.RecordErrorHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running forecaster instance: topics, model registry and its sources, Kafka Streams, metrics
 * and the HTTP API, started in that order and closed in reverse (Kafka Streams first, then metric
 * binders, then the models).
 */
public final class ForecastService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ForecastService.class);

  /** How to run an instance. */
  public record Options(
      TopologySpec spec,
      String bootstrapServers,
      Path stateDir,
      int httpPort,
      String applicationServer,
      Path modelDir,
      Map<String, String> clientProperties,
      String httpBindAddress,
      String httpBearerToken) {
    /** Listening on every interface, with no bearer token for /series. */
    public Options(
        TopologySpec spec,
        String bootstrapServers,
        Path stateDir,
        int httpPort,
        String applicationServer,
        Path modelDir,
        Map<String, String> clientProperties) {
      this(
          spec,
          bootstrapServers,
          stateDir,
          httpPort,
          applicationServer,
          modelDir,
          clientProperties,
          null,
          null);
    }

    @Override
    public String toString() {
      // Never print the token.
      return "Options[pipeline="
          + spec.name()
          + ", bootstrapServers="
          + bootstrapServers
          + ", http="
          + new HttpApi.Settings(httpBindAddress, httpPort, httpBearerToken)
          + "]";
    }
  }

  private final Options options;
  private final ExecutionProvider provider;
  private final PipelineMetrics metrics;
  private final PrometheusMeterRegistry prometheus;
  private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
  private final ModelRegistry registry;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicBoolean closed = new AtomicBoolean();
  // Null until started, so that a start-up failure can close what was opened so far.
  private Health health;
  private HttpApi http;
  private ModelSources modelSources;
  private KafkaStreams streams;
  private KafkaStreamsMetrics streamsMetrics;

  private ForecastService(Options o) throws Exception {
    this.options = o;
    TopologySpec spec = o.spec();
    // Before any Kafka client: a CUDA instance that cannot run on CUDA is a configuration error.
    ExecutionConfig exec = execution(spec);
    this.provider = checkExecution(spec, exec);
    ClusterPreflight.check(spec, o.bootstrapServers(), o.clientProperties());
    Map<String, Object> admin = new HashMap<>(o.clientProperties());
    admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrapServers());
    try (Admin a = Admin.create(admin)) {
      var t = spec.topics();
      Topics.ensure(a, t.input(), t.partitions(), t.replicationFactor(), Map.of());
      Topics.ensure(a, t.output(), t.partitions(), t.replicationFactor(), Map.of());
      Topics.ensure(a, t.deadLetter(), t.partitions(), t.replicationFactor(), Map.of());
      ModelTopic.ensure(a, o.bootstrapServers(), t.model(), t.replicationFactor());
    }
    FeaturePipeline outputs = new FeaturePipeline(spec);
    this.metrics =
        new PipelineMetrics(
            spec.name(), spec.intervals().levels(), outputs.targetNames(), outputs.horizons());
    this.prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    prometheus.config().commonTags("application", "stepcast");
    PrometheusConventions.configure(prometheus);
    metrics.bindTo(prometheus);
    new JvmMemoryMetrics().bindTo(prometheus);
    gcMetrics.bindTo(prometheus);
    new JvmThreadMetrics().bindTo(prometheus);
    new ClassLoaderMetrics().bindTo(prometheus);
    new ProcessorMetrics().bindTo(prometheus);
    new UptimeMetrics().bindTo(prometheus);
    PrometheusConventions.cpuSeconds().bindTo(prometheus);
    Gauge.builder("stepcast.execution.info", () -> 1)
        .description("1, tagged with the execution provider requested and the one in use")
        .tags(
            "pipeline",
            spec.name(),
            "requested",
            exec.provider().name().toLowerCase(Locale.ROOT),
            "provider",
            provider.name().toLowerCase(Locale.ROOT))
        .strongReference(true)
        .register(prometheus);
    this.registry = ModelSources.registry(spec, exec, metrics);
    try {
      start(o, spec);
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  private void start(Options o, TopologySpec spec) throws Exception {
    ObjectMapper json = new ObjectMapper();
    HostInfo self =
        o.applicationServer() == null ? null : HostInfo.buildFromEndpoint(o.applicationServer());
    // The HTTP API comes up before the wait for a model: liveness and metrics answer (and
    // readiness says why not ready) while an instance waits for its first model.
    Map<String, Object> admin = new HashMap<>(o.clientProperties());
    admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrapServers());
    this.health = new Health(registry, admin);
    this.http =
        new HttpApi(
            new HttpApi.Settings(o.httpBindAddress(), o.httpPort(), o.httpBearerToken()),
            prometheus,
            registry,
            new SeriesQuery(spec, json),
            self,
            health,
            json);
    Path modelDir = ModelSources.directory(spec, o.modelDir());
    this.modelSources =
        ModelSources.start(
            spec, modelDir, o.bootstrapServers(), o.clientProperties(), registry, prometheus);
    awaitModel(spec, modelDir);

    Files.createDirectories(o.stateDir());
    Properties props =
        ForecastTopology.streamsConfig(
            spec, o.bootstrapServers(), o.stateDir(), o.clientProperties());
    if (o.applicationServer() != null) {
      props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, o.applicationServer());
    }
    props.put(RecordErrorHandlers.METRICS_CONFIG, metrics);
    this.streams = new KafkaStreams(ForecastTopology.build(spec, registry, metrics), props);
    streams.setUncaughtExceptionHandler(
        e -> {
          // A programming error must fail loudly; a replaced thread would meet the same record.
          LOG.error("stream thread failed; shutting the instance down", e);
          return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    streams.setStateListener(
        (now, before) -> {
          LOG.info("streams {} -> {}", before, now);
          if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
            stopped.countDown();
          }
        });
    this.streamsMetrics = new KafkaStreamsMetrics(streams);
    streamsMetrics.bindTo(prometheus);
    health.attach(streams);
    streams.start();
    LOG.info(
        "pipeline {}: {} -> {} (dead letters: {}), execution provider {}, HTTP on port {}",
        spec.name(),
        spec.topics().input(),
        spec.topics().output(),
        spec.topics().deadLetter(),
        provider,
        http.port());
  }

  /** Starts an instance; returns once Kafka Streams has been started (not yet RUNNING). */
  public static ForecastService start(Options o) throws Exception {
    return new ForecastService(o);
  }

  /** The execution settings of a spec. */
  public static ExecutionConfig execution(TopologySpec spec) {
    var e = spec.execution();
    return new ExecutionConfig(
        ExecutionProvider.valueOf(e.provider().toUpperCase(Locale.ROOT)),
        e.fallbackToCpu(),
        e.cudaDeviceId(),
        e.intraOpThreads(),
        1);
  }

  /**
   * Checks that the spec's execution provider can start here, by opening a session on a tiny
   * built-in model; no Kafka client is involved.
   *
   * @return the provider sessions will run on (CPU after a permitted CUDA fallback)
   * @throws ConfigException if CUDA is requested, cannot start and falling back is not allowed
   */
  public static ExecutionProvider checkExecution(TopologySpec spec, ExecutionConfig exec) {
    if (exec.provider() == ExecutionProvider.CPU) {
      return ExecutionProvider.CPU;
    }
    try {
      return OrtSupport.probe(exec);
    } catch (ExecutionProviderException e) {
      throw new ConfigException(
          "pipeline " + spec.name(),
          "execution.provider",
          "is "
              + e.provider().name().toLowerCase(Locale.ROOT)
              + " (device "
              + exec.cudaDeviceId()
              + ") but it cannot start: "
              + e.reason()
              + "; execution.fallbackToCpu is false",
          "run the CUDA build (mvn -Pcuda, image docker/Dockerfile.cuda, chart value gpu.enabled)"
              + " on a node with an NVIDIA GPU and CUDA 12 / cuDNN 9, or allow the CPU with"
              + " execution.fallbackToCpu: true (STEPCAST_EXECUTION_FALLBACK_TO_CPU=true), or choose"
              + " execution.provider: cpu (STEPCAST_EXECUTION_PROVIDER=cpu)");
    } catch (ModelException e) {
      throw new IllegalStateException(
          "ONNX Runtime cannot open its built-in probe model: " + e.getMessage(), e);
    }
  }

  private void awaitModel(TopologySpec spec, Path modelDir) throws InterruptedException {
    long deadline =
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(spec.model().startupTimeoutMs());
    while (!registry.awaitModel(Duration.ofSeconds(10))) {
      LOG.warn(
          "pipeline {}: waiting for a model on topic {}{}; publish one with 'stepcast train "
              + "--publish' or 'stepcast model export'{}",
          spec.name(),
          spec.topics().model(),
          modelDir == null ? "" : " or in " + modelDir.toAbsolutePath(),
          registry.lastRefusal() == null ? "" : " (last refused: " + registry.lastRefusal() + ")");
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no valid model for pipeline "
                + spec.name()
                + " within "
                + spec.model().startupTimeoutMs()
                + " ms (model.startupTimeoutMs)");
      }
    }
  }

  /** The Kafka Streams client. */
  public KafkaStreams streams() {
    return streams;
  }

  /** The health of this instance; add readiness checks (model sources, say) to it. */
  public Health health() {
    return health;
  }

  /** The model registry of this instance. */
  public ModelRegistry registry() {
    return registry;
  }

  /** The execution provider step sessions run on. */
  public ExecutionProvider provider() {
    return provider;
  }

  /** The bound HTTP port. */
  public int httpPort() {
    return http.port();
  }

  /** The options this instance was started with. */
  public Options options() {
    return options;
  }

  /** Blocks until the streams stop (shutdown, or a fatal error). */
  public void awaitStop() throws InterruptedException {
    stopped.await();
  }

  /**
   * Stops Kafka Streams, then the HTTP API and metric binders, then the model sources and models.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (streams != null) {
      // Without static membership, leave the group so the remaining (or restarted) instances take
      // the partitions over at once instead of after the session timeout. With a
      // group.instance.id, stay: a restart within the session timeout then needs no rebalance.
      boolean staticMember =
          options.clientProperties().containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
      streams.close(
          CloseOptions.timeout(Duration.ofSeconds(30))
              .withGroupMembershipOperation(
                  staticMember
                      ? CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP
                      : CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    }
    if (http != null) {
      http.close();
    }
    if (health != null) {
      health.close();
    }
    if (streamsMetrics != null) {
      streamsMetrics.close();
    }
    gcMetrics.close();
    prometheus.close();
    if (modelSources != null) {
      modelSources.close();
    }
    registry.close();
    stopped.countDown();
  }
}
