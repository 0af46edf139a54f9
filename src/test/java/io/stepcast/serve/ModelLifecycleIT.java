package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.ConfigException;
import io.stepcast.config.SpecFixtures;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.ModelTopic;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelCandidate;
import io.stepcast.model.ModelDirectoryWatcher;
import io.stepcast.model.ModelRegistry;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.PrometheusText;
import io.stepcast.testsupport.TestHttp;
import io.stepcast.testsupport.TestModels;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model lifecycle on the embedded broker, in the orders an operator meets: a model topic the
 * broker auto-created, models in the directory and on the topic at once, a broken newest file
 * beside a valid older one, a 3 GB sparse file, a broken latest record and a restart, sources whose
 * listener throws.
 */
class ModelLifecycleIT {
  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
  private static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir Path dir;

  private final String bootstrap = EmbeddedKafkaSupport.cluster().bootstrapServers();

  private TopologySpec spec(String name, Path modelDir) {
    Map<String, String> env = TestTopics.isolatedPipeline(TestTopics.unique(name), 1);
    env.put("STEPCAST_MODEL_DIRECTORY", modelDir.toString());
    env.put("STEPCAST_MODEL_POLL_INTERVAL_MS", "200");
    return SpecLoader.load(Path.of("topologies/weather.yaml"), env);
  }

  private ForecastService start(TopologySpec spec, String state) throws Exception {
    return ForecastService.start(
        new ForecastService.Options(spec, bootstrap, dir.resolve(state), 0, null, null, Map.of()));
  }

  private static byte[] at(TopologySpec spec, String version, long hours) {
    return TestModels.model(spec, version, T0.plusSeconds(3600 * hours));
  }

  private void publish(TopologySpec spec, String version, byte[] onnx) throws Exception {
    try (Admin a = EmbeddedKafkaSupport.cluster().admin()) {
      ModelTopic.ensure(a, bootstrap, spec.topics().model(), (short) 1);
    }
    ModelTopic.publish(bootstrap, Map.of(), spec.topics().model(), spec.name(), version, onnx);
  }

  private static PrometheusText metrics(ForecastService s) {
    return PrometheusText.parse(TestHttp.get(s.httpPort(), "/metrics").body());
  }

  private static double metric(ForecastService s, String name, String... labels) {
    Map<String, String> l = new java.util.HashMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      l.put(labels[i], labels[i + 1]);
    }
    return metrics(s).value(name, l);
  }

  private static void awaitServing(ForecastService s, String version) {
    Await.until(
        WAIT,
        () -> s.registry().current() != null && version.equals(s.registry().current().version()),
        () ->
            version
                + " serving; serving "
                + s.registry().current()
                + ", last refusal "
                + s.registry().lastRefusal());
  }

  private static void awaitReady(ForecastService s) {
    Await.until(
        WAIT,
        () -> TestHttp.get(s.httpPort(), "/health/ready").status() == 200,
        () -> "ready: " + TestHttp.get(s.httpPort(), "/health/ready"));
  }

  @Test
  void shouldRefuseToRunOnAnAutoCreatedModelTopicWithTheFixAndRunOnceItIsApplied()
      throws Exception {
    Path models = Files.createDirectories(dir.resolve("models"));
    TopologySpec spec = spec("auto-created", models);
    Files.write(models.resolve("a.onnx"), at(spec, "a", 1));
    // A producer touches the topic first: the broker creates it with its own defaults.
    TestRecords.produce(bootstrap, spec.topics().model(), List.of(Map.entry("x", "y")));

    String message = null;
    try (ForecastService s = start(spec, "state")) {
      throw new AssertionError("started on a model topic with the broker's defaults");
    } catch (ConfigException e) {
      message = e.getMessage();
    }
    assertThat(message)
        .contains("deletes every model")
        .contains("refuses models larger than that")
        .contains(
            "kafka-configs.sh --bootstrap-server "
                + bootstrap
                + " --alter --entity-type topics --entity-name "
                + spec.topics().model()
                + " --add-config ");
    // Apply the fix the message gives, as kafka-configs.sh would.
    String add = message.substring(message.indexOf("--add-config ") + "--add-config ".length());
    List<AlterConfigOp> ops = new ArrayList<>();
    for (String kv : add.trim().split(",")) {
      String[] p = kv.split("=", 2);
      ops.add(new AlterConfigOp(new ConfigEntry(p[0], p[1]), AlterConfigOp.OpType.SET));
    }
    try (Admin a = EmbeddedKafkaSupport.cluster().admin()) {
      ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, spec.topics().model());
      a.incrementalAlterConfigs(Map.of(r, ops)).all().get();
    }
    try (ForecastService s = start(spec, "state")) {
      awaitServing(s, "a");
    }
  }

  @Test
  void shouldServeTheNewestModelAcrossDirectoryAndTopicOnEveryInstanceAndNeverStepBack()
      throws Exception {
    Path models = Files.createDirectories(dir.resolve("models"));
    TopologySpec spec = spec("precedence", models);
    Files.write(models.resolve("a.onnx"), at(spec, "a", 1));
    publish(spec, "c", at(spec, "c", 0));
    publish(spec, "b", at(spec, "b", 2));
    try (ForecastService one = start(spec, "state-1");
        ForecastService two = start(spec, "state-2")) {
      for (ForecastService s : List.of(one, two)) {
        awaitServing(s, "b");
        // The first model of an instance is not a swap: it never served a, then b.
        assertThat(metric(s, "stepcast_model_swaps_total", "pipeline", "weather")).isZero();
        assertThat(metric(s, "stepcast_model_created_seconds", "pipeline", "weather"))
            .isEqualTo(T0.plusSeconds(7200).getEpochSecond());
        assertThat(metric(s, "stepcast_model_source_up", "source", "directory")).isEqualTo(1);
        assertThat(metric(s, "stepcast_model_source_up", "source", "topic")).isEqualTo(1);
      }
      Files.write(models.resolve("d.onnx"), at(spec, "d", 3));
      awaitServing(one, "d");
      awaitServing(two, "d");
      // An older model arriving later is not served; the newer one after it is.
      publish(spec, "e", at(spec, "e", 1));
      publish(spec, "f", at(spec, "f", 4));
      awaitServing(one, "f");
      awaitServing(two, "f");
      for (ForecastService s : List.of(one, two)) {
        assertThat(metric(s, "stepcast_model_swaps_total", "pipeline", "weather")).isEqualTo(2);
      }
    }
    try (ForecastService again = start(spec, "state-1")) {
      awaitServing(again, "f");
      assertThat(metric(again, "stepcast_model_swaps_total", "pipeline", "weather")).isZero();
    }
  }

  @Test
  void shouldBeReadyOnTheValidOlderModelBesideABrokenNewestAndA3GbSparseFile() throws Exception {
    Path models = Files.createDirectories(dir.resolve("models"));
    TopologySpec spec = spec("broken-newest", models);
    Files.write(models.resolve("old.onnx"), at(spec, "old", 1));
    Files.write(models.resolve("foreign.onnx"), at(SpecFixtures.stocks(), "stocks-newest", 9));
    Files.write(models.resolve("garbage.onnx"), TestModels.garbage());
    try (RandomAccessFile huge = new RandomAccessFile(models.resolve("huge.onnx").toFile(), "rw")) {
      huge.setLength(3L * 1024 * 1024 * 1024); // sparse: no disk used, 3 GB of zeros if read
    }
    try (ForecastService s = start(spec, "state")) {
      awaitServing(s, "old");
      awaitReady(s);
      assertThat(s.registry().healthy()).isTrue();
      double seen = metric(s, "stepcast_model_source_last_success_seconds", "source", "directory");
      Await.until(
          WAIT,
          () ->
              metric(s, "stepcast_model_source_last_success_seconds", "source", "directory")
                  > seen + 1,
          () -> "more scans of the directory");
      // Each of the three refused once, not once per scan.
      assertThat(metric(s, "stepcast_model_refusals_total", "pipeline", "weather")).isEqualTo(3);
      assertThat(metric(s, "stepcast_model_source_errors_total", "source", "directory")).isZero();
      // The watcher still follows: a newer valid model is taken.
      Files.write(models.resolve("newer.onnx"), at(spec, "newer", 10));
      awaitServing(s, "newer");
    }
  }

  @Test
  void shouldComeBackOnTheValidOlderTopicModelAfterARestartWhenTheLatestRecordIsBroken()
      throws Exception {
    Path empty = Files.createDirectories(dir.resolve("no-models"));
    TopologySpec spec = spec("broken-latest", empty);
    publish(spec, "good", at(spec, "good", 1));
    try (ForecastService s = start(spec, "state")) {
      awaitServing(s, "good");
      publish(spec, "stocks-newest", at(SpecFixtures.stocks(), "stocks-newest", 5));
      publish(spec, "garbage", TestModels.garbage());
      Await.until(
          WAIT,
          () -> metric(s, "stepcast_model_refusals_total", "pipeline", "weather") == 2,
          () -> "both broken records refused");
    }
    try (ForecastService s = start(spec, "state")) {
      awaitServing(s, "good");
      awaitReady(s);
    }
  }

  /**
   * A listener that throws on its first swap and first refusal: a failure the sources must outlive.
   */
  private static final class Throwing implements ModelRegistry.Listener {
    final AtomicInteger thrown = new AtomicInteger();
    private boolean swapThrown;
    private boolean refusalThrown;

    @Override
    public synchronized void swapped(String previous, String current) {
      if (!swapThrown) {
        swapThrown = true;
        thrown.incrementAndGet();
        throw new IllegalStateException("injected on swap");
      }
    }

    @Override
    public synchronized void refused(String source, String reason) {
      if (!refusalThrown) {
        refusalThrown = true;
        thrown.incrementAndGet();
        throw new IllegalStateException("injected on refusal");
      }
    }
  }

  @Test
  void shouldKeepWatchingTheDirectoryAfterAnInjectedFailure() throws Exception {
    Path models = Files.createDirectories(dir.resolve("models"));
    TopologySpec spec = SpecFixtures.weather();
    Throwing listener = new Throwing();
    try (ModelRegistry registry = ModelSources.registry(spec, ExecutionConfig.cpu(), listener)) {
      Files.write(models.resolve("garbage.onnx"), TestModels.garbage());
      try (ModelDirectoryWatcher w = new ModelDirectoryWatcher(models, registry, 200)) {
        Files.write(models.resolve("v1.onnx"), at(spec, "v1", 1));
        Await.until(WAIT, () -> registry.current() != null, () -> "v1 served");
        Files.write(models.resolve("v2.onnx"), at(spec, "v2", 2));
        Await.until(
            WAIT,
            () -> "v2".equals(registry.current().version()) && w.health().up(),
            () -> "v2 served by a live watcher: " + w.health().reason());
        assertThat(listener.thrown).hasValue(2);
        assertThat(w.health().errors()).isGreaterThanOrEqualTo(2);
        assertThat(registry.healthy()).isTrue();
      }
    }
  }

  @Test
  void shouldFollowAModelTopicCreatedAfterTheFollowerStartedAndOutliveAnInjectedFailure()
      throws Exception {
    TopologySpec spec = spec("late-topic", dir);
    Throwing listener = new Throwing();
    try (ModelRegistry registry = ModelSources.registry(spec, ExecutionConfig.cpu(), listener);
        ModelTopic.Follower f =
            new ModelTopic.Follower(
                bootstrap, Map.of(), spec.topics().model(), spec.name(), registry)) {
      // The topic does not exist yet: the follower must neither die nor create it.
      long started = System.currentTimeMillis();
      Await.until(
          WAIT,
          () -> f.health().lastSuccessMillis() > started,
          () -> "a round of the follower without the topic");
      assertThat(f.health().up()).isTrue();
      publish(spec, "garbage", TestModels.garbage());
      publish(spec, "v1", at(spec, "v1", 1));
      Await.until(WAIT, () -> registry.current() != null, () -> "v1 served");
      publish(spec, "v2", at(spec, "v2", 2));
      Await.until(
          WAIT,
          () -> "v2".equals(registry.current().version()) && f.health().up(),
          () -> "v2 served by a live follower: " + f.health().reason());
      assertThat(listener.thrown).hasValue(2);
      assertThat(f.health().errors()).isGreaterThanOrEqualTo(1);
      assertThat(registry.sources())
          .extracting(h -> h.origin())
          .containsExactly(ModelCandidate.Origin.TOPIC);
    }
  }
}
