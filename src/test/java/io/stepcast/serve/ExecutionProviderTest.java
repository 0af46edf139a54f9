package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtProvider;
import io.stepcast.config.ConfigException;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ExecutionProvider;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.OrtSupport;
import io.stepcast.train.PipelineModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CUDA selected by the spec or the environment, and what an instance does on a machine where it
 * cannot start (the CPU build of ONNX Runtime, or no GPU): refuse to start, before any Kafka
 * client, with the fix in the message; or fall back to the CPU when allowed.
 */
class ExecutionProviderTest {
  @TempDir Path dir;

  private static TopologySpec weather(Map<String, String> env) {
    return SpecLoader.load(Path.of("topologies/weather.yaml"), env);
  }

  /**
   * CUDA cannot run here: the CPU build of ONNX Runtime (the default), or the CUDA build (-Pcuda)
   * on a machine without a GPU or CUDA libraries. On a GPU host these tests are skipped.
   */
  private static void assumeCudaCannotStart() {
    ExecutionProvider got;
    try {
      got = OrtSupport.probe(ExecutionConfig.cuda(0, true));
    } catch (Exception e) {
      throw new AssertionError("the probe must not fail with fallbackToCpu=true", e);
    }
    Assumptions.assumeTrue(
        got == ExecutionProvider.CPU, "CUDA starts on this machine: nothing to fall back from");
  }

  @Test
  void shouldSelectCudaFromTheEnvironmentAndCpuByDefault() {
    ExecutionConfig byDefault = ForecastService.execution(weather(Map.of()));
    assertThat(byDefault.provider()).isEqualTo(ExecutionProvider.CPU);

    ExecutionConfig cuda =
        ForecastService.execution(
            weather(
                Map.of(
                    "STEPCAST_EXECUTION_PROVIDER", "cuda",
                    "STEPCAST_EXECUTION_FALLBACK_TO_CPU", "false",
                    "STEPCAST_EXECUTION_CUDA_DEVICE_ID", "1")));
    assertThat(cuda.provider()).isEqualTo(ExecutionProvider.CUDA);
    assertThat(cuda.fallbackToCpu()).isFalse();
    assertThat(cuda.cudaDeviceId()).isEqualTo(1);
  }

  @Test
  void shouldRefuseToStartOnCudaWithoutItBeforeAnyKafkaClientWhenFallbackIsOff() {
    assumeCudaCannotStart();
    TopologySpec spec =
        weather(
            Map.of(
                "STEPCAST_EXECUTION_PROVIDER", "cuda",
                "STEPCAST_EXECUTION_FALLBACK_TO_CPU", "false"));
    Path state = dir.resolve("state");
    long t0 = System.nanoTime();

    // Nothing listens on port 1: an admin client would wait for its timeout, not fail at once.
    assertThatThrownBy(
            () ->
                ForecastService.start(
                    new ForecastService.Options(
                        spec, "127.0.0.1:1", state, 0, null, null, Map.of())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("field 'execution.provider'")
        .hasMessageContaining("is cuda (device 0) but it cannot start")
        .hasMessageContaining(
            OrtSupport.availableProviders().contains(OrtProvider.CUDA)
                ? "CUDA provider of onnxruntime_gpu cannot load its libraries"
                : "no CUDA provider, it is the CPU build")
        .hasMessageContaining("-Pcuda")
        .hasMessageContaining("STEPCAST_EXECUTION_FALLBACK_TO_CPU=true")
        .hasMessageContaining("STEPCAST_EXECUTION_PROVIDER=cpu");
    assertThat((System.nanoTime() - t0) / 1e9).isLessThan(10);
    assertThat(Files.exists(state)).isFalse();
  }

  @Test
  void shouldFallBackToCpuAtStartWhenAllowed() {
    assumeCudaCannotStart();
    TopologySpec spec =
        weather(
            Map.of(
                "STEPCAST_EXECUTION_PROVIDER", "cuda",
                "STEPCAST_EXECUTION_FALLBACK_TO_CPU", "true"));

    assertThat(ForecastService.checkExecution(spec, ForecastService.execution(spec)))
        .isEqualTo(ExecutionProvider.CPU);
  }

  @Test
  void shouldServeOnCpuAfterAFallbackAndRefuseEveryModelWithoutOne() {
    assumeCudaCannotStart();
    for (boolean fallback : new boolean[] {true, false}) {
      TopologySpec spec =
          weather(
              Map.of(
                  "STEPCAST_EXECUTION_PROVIDER",
                  "cuda",
                  "STEPCAST_EXECUTION_FALLBACK_TO_CPU",
                  Boolean.toString(fallback)));
      try (ModelRegistry registry =
          ModelSources.registry(
              spec, ForecastService.execution(spec), ModelRegistry.Listener.NONE)) {
        ModelRegistry.Outcome outcome = registry.offer(PipelineModels.fixed(spec, 5), "test");
        if (fallback) {
          assertThat(outcome).isEqualTo(ModelRegistry.Outcome.SWAPPED);
          assertThat(registry.current().model().provider()).isEqualTo(ExecutionProvider.CPU);
        } else {
          assertThat(outcome).isEqualTo(ModelRegistry.Outcome.REFUSED);
          assertThat(registry.hasModel()).isFalse();
          assertThat(registry.lastRefusal()).contains("CUDA").contains("-Pcuda");
        }
      }
    }
  }
}
