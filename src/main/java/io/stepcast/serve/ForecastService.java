package io.stepcast.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.ModelTopic;
import io.stepcast.kafka.Topics;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ExecutionProvider;
import io.stepcast.model.ModelDirectoryWatcher;
import io.stepcast.model.ModelRegistry;
import io.stepcast.state.SeriesState;
import io.stepcast.topology.ForecastTopology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
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
      Map<String, String> clientProperties) {}

  private final Options options;
  private final ModelRegistry registry;
  private final PipelineMetrics metrics;
  private final PrometheusMeterRegistry prometheus;
  private final KafkaStreams streams;
  private final KafkaStreamsMetrics streamsMetrics;
  private final ModelDirectoryWatcher watcher;
  private final ModelTopic.Follower follower;
  private final HttpApi http;
  private final CountDownLatch stopped = new CountDownLatch(1);

  private ForecastService(Options o) throws Exception {
    this.options = o;
    TopologySpec spec = o.spec();
    Map<String, Object> admin = new HashMap<>(o.clientProperties());
    admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrapServers());
    try (Admin a = Admin.create(admin)) {
      var t = spec.topics();
      Topics.ensure(a, t.input(), t.partitions(), t.replicationFactor(), Map.of());
      Topics.ensure(a, t.output(), t.partitions(), t.replicationFactor(), Map.of());
      Topics.ensure(a, t.deadLetter(), t.partitions(), t.replicationFactor(), Map.of());
      ModelTopic.ensure(a, t.model(), t.replicationFactor());
    }
    this.metrics = new PipelineMetrics(spec.name());
    this.prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    prometheus.config().commonTags("application", "stepcast");
    metrics.bindTo(prometheus);
    new JvmMemoryMetrics().bindTo(prometheus);
    new JvmThreadMetrics().bindTo(prometheus);
    new ClassLoaderMetrics().bindTo(prometheus);
    new ProcessorMetrics().bindTo(prometheus);
    new UptimeMetrics().bindTo(prometheus);
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    this.registry =
        new ModelRegistry(
            spec.name(),
            pipeline.columns(),
            spec.target().field(),
            spec.target().transform().name().toLowerCase(Locale.ROOT),
            execution(spec),
            metrics);
    Path modelDir =
        o.modelDir() != null
            ? o.modelDir()
            : spec.model().directory() == null ? null : Path.of(spec.model().directory());
    this.watcher =
        modelDir == null
            ? null
            : new ModelDirectoryWatcher(modelDir, registry, spec.model().pollIntervalMs());
    this.follower =
        spec.model().followTopic()
            ? new ModelTopic.Follower(
                o.bootstrapServers(),
                o.clientProperties(),
                spec.topics().model(),
                spec.name(),
                registry)
            : null;
    awaitModel(spec, modelDir);

    Files.createDirectories(o.stateDir());
    Properties props =
        ForecastTopology.streamsConfig(
            spec, o.bootstrapServers(), o.stateDir(), o.clientProperties());
    if (o.applicationServer() != null) {
      props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, o.applicationServer());
    }
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
    Gauge.builder("stepcast.series", this, ForecastService::seriesHeld)
        .description("Series held in this instance's state stores (approximate)")
        .tag("pipeline", spec.name())
        .register(prometheus);
    ObjectMapper json = new ObjectMapper();
    HostInfo self =
        o.applicationServer() == null ? null : HostInfo.buildFromEndpoint(o.applicationServer());
    this.http =
        new HttpApi(
            o.httpPort(), prometheus, streams, registry, new SeriesQuery(spec, json), self, json);
    streams.start();
    LOG.info(
        "pipeline {}: {} -> {} (dead letters: {}), HTTP on port {}",
        spec.name(),
        spec.topics().input(),
        spec.topics().output(),
        spec.topics().deadLetter(),
        http.port());
  }

  /** Starts an instance; returns once Kafka Streams has been started (not yet RUNNING). */
  public static ForecastService start(Options o) throws Exception {
    return new ForecastService(o);
  }

  public static ExecutionConfig execution(TopologySpec spec) {
    var e = spec.execution();
    return new ExecutionConfig(
        ExecutionProvider.valueOf(e.provider().toUpperCase(Locale.ROOT)),
        e.fallbackToCpu(),
        e.cudaDeviceId(),
        e.intraOpThreads(),
        1);
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

  private double seriesHeld() {
    if (streams.state() != KafkaStreams.State.RUNNING) {
      return Double.NaN;
    }
    try {
      ReadOnlyKeyValueStore<String, SeriesState> store =
          streams.store(
              StoreQueryParameters.fromNameAndType(
                  ForecastTopology.STATE_STORE,
                  QueryableStoreTypes.<String, SeriesState>keyValueStore()));
      return store.approximateNumEntries();
    } catch (RuntimeException e) {
      return Double.NaN;
    }
  }

  public KafkaStreams streams() {
    return streams;
  }

  public ModelRegistry registry() {
    return registry;
  }

  public int httpPort() {
    return http.port();
  }

  public Options options() {
    return options;
  }

  /** Blocks until the streams stop (shutdown, or a fatal error). */
  public void awaitStop() throws InterruptedException {
    stopped.await();
  }

  @Override
  public void close() {
    streams.close(Duration.ofSeconds(30));
    http.close();
    streamsMetrics.close();
    prometheus.close();
    if (follower != null) {
      try {
        follower.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (watcher != null) {
      watcher.close();
    }
    registry.close();
    stopped.countDown();
  }
}
