package io.stepcast.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.serve.ModelSources;
import io.stepcast.testsupport.TestModels;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The precedence and fallback of {@link ModelRegistry}, on real ONNX Runtime sessions. */
class ModelRegistryTest {
  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
  private final TopologySpec weather = SpecFixtures.weather();
  private final List<String> swaps = new ArrayList<>();
  private final List<String> refusals = new ArrayList<>();
  private boolean throwOnRefusal;
  private final ModelRegistry.Listener listener =
      new ModelRegistry.Listener() {
        @Override
        public void swapped(String previous, String current) {
          swaps.add(current);
        }

        @Override
        public void refused(String source, String reason) {
          refusals.add(source);
          if (throwOnRefusal) {
            throw new IllegalStateException("injected");
          }
        }
      };
  private ModelRegistry registry;

  @AfterEach
  void close() {
    if (registry != null) {
      registry.close();
    }
  }

  private ModelRegistry registry(String pin) {
    TopologySpec spec =
        pin == null
            ? weather
            : SpecFixtures.withModel(
                weather,
                new TopologySpec.Model(
                    weather.model().directory(),
                    weather.model().followTopic(),
                    weather.model().onSwap(),
                    weather.model().ringBuffer(),
                    weather.model().pollIntervalMs(),
                    weather.model().startupTimeoutMs(),
                    pin));
    registry = ModelSources.registry(spec, ExecutionConfig.cpu(), listener);
    return registry;
  }

  private static ModelCandidate candidate(ModelCandidate.Origin origin, String id, byte[] onnx) {
    return ModelCandidate.of(origin, id, id, onnx, () -> onnx);
  }

  private ModelCandidate dir(String id, String version, long hours) {
    return candidate(
        ModelCandidate.Origin.DIRECTORY,
        id,
        TestModels.model(weather, version, T0.plusSeconds(3600 * hours)));
  }

  private ModelCandidate topic(String id, String version, long hours) {
    return candidate(
        ModelCandidate.Origin.TOPIC,
        id,
        TestModels.model(weather, version, T0.plusSeconds(3600 * hours)));
  }

  @Test
  void shouldServeTheNewestValidModelAcrossDirectoryAndTopicWithoutAnInterimSwap() {
    ModelRegistry r = registry(null);
    // The topic's model is newer although the directory reports first: no detour via the older.
    r.candidates(ModelCandidate.Origin.TOPIC, List.of(topic("t@1", "b", 2)));
    r.candidates(ModelCandidate.Origin.DIRECTORY, List.of(dir("a.onnx", "a", 1)));
    assertThat(r.current().version()).isEqualTo("b");
    assertThat(swaps).containsExactly("b");
  }

  @Test
  void shouldBreakATieOnCreationTimeByTheGreaterVersion() {
    ModelRegistry r = registry(null);
    r.candidates(
        ModelCandidate.Origin.DIRECTORY, List.of(dir("x.onnx", "v1", 1), dir("y.onnx", "v2", 1)));
    assertThat(r.current().version()).isEqualTo("v2");
  }

  @Test
  void shouldServeTheNewestValidOlderModelWhenNewerOnesAreBrokenAndRefuseEachOnce() {
    ModelRegistry r = registry(null);
    TopologySpec stocks = SpecFixtures.stocks();
    ModelCandidate foreign =
        candidate(
            ModelCandidate.Origin.DIRECTORY,
            "foreign.onnx",
            TestModels.model(stocks, "stocks-new", T0.plusSeconds(3600 * 9)));
    ModelCandidate garbage =
        candidate(ModelCandidate.Origin.DIRECTORY, "garbage.onnx", TestModels.garbage());
    List<ModelCandidate> all = List.of(foreign, garbage, dir("old.onnx", "old", 1));
    r.candidates(ModelCandidate.Origin.DIRECTORY, all);
    r.candidates(ModelCandidate.Origin.DIRECTORY, all);
    r.candidates(ModelCandidate.Origin.DIRECTORY, all);
    assertThat(r.current().version()).isEqualTo("old");
    assertThat(refusals).containsExactlyInAnyOrder("foreign.onnx", "garbage.onnx");
  }

  @Test
  void shouldNeverStepBackToAnOlderModel() {
    ModelRegistry r = registry(null);
    r.candidates(ModelCandidate.Origin.TOPIC, List.of(topic("t@1", "new", 5)));
    r.candidates(ModelCandidate.Origin.DIRECTORY, List.of(dir("older.onnx", "older", 4)));
    assertThat(r.current().version()).isEqualTo("new");
    ModelCandidate older = dir("older.onnx", "older", 4);
    assertThat(r.outranked(older)).isTrue();
    assertThat(swaps).containsExactly("new");
  }

  @Test
  void shouldServeOnlyThePinnedVersionWhateverNewerOnesExist() {
    ModelRegistry r = registry("old");
    r.candidates(
        ModelCandidate.Origin.DIRECTORY, List.of(dir("new.onnx", "new", 9), dir("x.onnx", "x", 2)));
    assertThat(r.current()).isNull();
    r.candidates(ModelCandidate.Origin.TOPIC, List.of(topic("t@3", "old", 1)));
    assertThat(r.current().version()).isEqualTo("old");
    assertThat(refusals).isEmpty();
  }

  @Test
  void shouldKeepItsStateWhenAListenerThrows() {
    registry(null);
    throwOnRefusal = true;
    List<ModelCandidate> list =
        List.of(
            candidate(ModelCandidate.Origin.DIRECTORY, "bad.onnx", TestModels.garbage()),
            dir("ok.onnx", "ok", 1));
    try {
      registry.candidates(ModelCandidate.Origin.DIRECTORY, list);
    } catch (IllegalStateException expected) {
      // the source retries on its next round
    }
    registry.candidates(ModelCandidate.Origin.DIRECTORY, list);
    assertThat(registry.current().version()).isEqualTo("ok");
    assertThat(swaps).containsExactly("ok");
    assertThat(refusals).containsExactly("bad.onnx");
  }
}
