package io.stepcast.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.SeriesReplay;
import io.stepcast.model.CellType;
import io.stepcast.model.DemoModels;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.ReferenceRnn;
import io.stepcast.model.RnnWeights;
import io.stepcast.model.StepModelBuilder;
import io.stepcast.serve.ModelSources;
import io.stepcast.state.RecentRows;
import io.stepcast.train.PipelineModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline with several targets and horizons through the real topology (RocksDB stores): every
 * forecast in the record, the time each is for, and each horizon scored against the forecast made
 * that many events before.
 */
class HorizonsTopologyTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long T0 = 1262307600000L;
  private static final long HOUR = 3_600_000L;

  @TempDir Path stateDir;

  private TopologyTestDriver driver;
  private ModelRegistry registry;
  private final List<double[]> scored = new ArrayList<>();

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  /** A model for the pipeline whose head is far from zero, so every output differs. */
  private static RnnWeights weights(TopologySpec spec, long seed) {
    FeaturePipeline p = new FeaturePipeline(spec);
    RnnWeights w =
        DemoModels.persistenceLikeWeights(CellType.LSTM, p.width(), 8, 1, p.outputCount(), seed);
    for (int i = 0; i < w.wOut().length; i++) {
      w.wOut()[i] *= 500;
    }
    for (int i = 0; i < w.xStd().length; i++) {
      w.xStd()[i] = 10;
    }
    return w;
  }

  private static byte[] model(TopologySpec spec, RnnWeights w) {
    return StepModelBuilder.build(
        w, PipelineModels.specFor(spec, "multi-1", CellType.LSTM, 1, 8).build());
  }

  private TestOutputTopic<String, byte[]> start(TopologySpec spec, byte[] model) {
    registry = ModelSources.registry(spec, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE);
    assertThat(registry.offer(model, "test")).isEqualTo(ModelRegistry.Outcome.SWAPPED);
    Properties p = ForecastTopology.streamsConfig(spec, "unused:9092", stateDir, Map.of());
    ForecastMetrics metrics =
        new ForecastMetrics() {
          @Override
          public void scoredHorizon(int target, int horizon, double err, double persistence) {
            scored.add(new double[] {target, horizon, err, persistence});
          }
        };
    driver = new TopologyTestDriver(ForecastTopology.build(spec, registry, metrics), p);
    return driver.createOutputTopic(
        spec.topics().output(), new StringDeserializer(), new ByteArrayDeserializer());
  }

  private static double temperature(int i) {
    return 4 + 3 * Math.sin(i / 3.0);
  }

  private static double wind(int i) {
    return 3 + 2 * Math.cos(i / 5.0);
  }

  @Test
  void shouldCarryEveryTargetAndHorizonScoredAgainstTheForecastMadeThatManyEventsBefore()
      throws Exception {
    TopologySpec spec = SpecFixtures.weatherHorizons();
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    RnnWeights w = weights(spec, 11);
    TestOutputTopic<String, byte[]> output = start(spec, model(spec, w));
    TestInputTopic<byte[], byte[]> input =
        driver.createInputTopic(
            spec.topics().input(), new ByteArraySerializer(), new ByteArraySerializer());
    int n = 40;
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String json =
          String.format(
              Locale.ROOT,
              "{\"date\":\"%s\",\"pressure\":%s,\"temperature\":%s,\"wind\":%s}",
              java.time.Instant.ofEpochMilli(T0 + i * HOUR).toString().replace("Z", ""),
              1016.5 - i / 10.0,
              temperature(i),
              wind(i));
      input.pipeInput(
          "seattle".getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8));
      events.add(Event.of("seattle", T0 + i * HOUR, temperature(i), 1016.5 - i / 10.0, wind(i)));
    }
    List<JsonNode> records = new ArrayList<>();
    while (!output.isEmpty()) {
      records.add(JSON.readTree(output.readValue()));
    }
    assertThat(records).hasSize(n);

    // The independent reference: the trainer's rows through a plain-Java LSTM on the same weights.
    SeriesReplay.Rows rows = SeriesReplay.rows(pipeline, events);
    ReferenceRnn ref = new ReferenceRnn(w);
    float[][] st = ref.zeroState();
    int[] horizons = {1, 6, 24};
    String[] targets = {"temperature", "wind"};
    for (int i = 0; i < n - 1; i++) {
      float[] y = ref.step(rows.x()[i], st);
      JsonNode r = records.get(i);
      JsonNode all = r.get("forecasts");
      assertThat(all).hasSize(6);
      assertThat(r.get("actuals").get("temperature").asDouble()).isEqualTo(temperature(i));
      assertThat(r.get("actuals").get("wind").asDouble()).isEqualTo(wind(i));
      for (int j = 0; j < 2; j++) {
        double actual = j == 0 ? temperature(i) : wind(i);
        for (int k = 0; k < 3; k++) {
          JsonNode f = all.get(j * 3 + k);
          int h = horizons[k];
          assertThat(f.get("target").asText()).isEqualTo(targets[j]);
          assertThat(f.get("horizon").asInt()).isEqualTo(h);
          double expected = pipeline.forecast(j, y[j * 3 + k], actual);
          assertThat(f.get("forecast").asDouble())
              .isCloseTo(expected, within(1e-4 * Math.max(1, Math.abs(expected))));
          if (i == 0) {
            assertThat(f.get("for").isNull()).isTrue();
          } else {
            assertThat(f.get("forTime").asLong()).isEqualTo(T0 + (i + h) * HOUR);
            assertThat(f.get("for").asText())
                .isEqualTo(java.time.Instant.ofEpochMilli(T0 + (i + h) * HOUR).toString());
          }
          if (i >= h) {
            JsonNode then = records.get(i - h).get("forecasts").get(j * 3 + k);
            double thenActual = j == 0 ? temperature(i - h) : wind(i - h);
            assertThat(f.get("error").asDouble())
                .isEqualTo(actual - then.get("forecast").asDouble());
            assertThat(f.get("persistenceError").asDouble()).isEqualTo(actual - thenActual);
          } else {
            assertThat(f.get("error").isNull()).isTrue();
            assertThat(f.get("persistenceError").isNull()).isTrue();
          }
          // Each output's own intervals, from its first scored error on (h events in).
          if (i < h) {
            assertThat(f.get("intervals").isNull()).as("event %d output %d", i, j * 3 + k).isTrue();
          } else {
            JsonNode p80 = f.get("intervals").get("0.8");
            JsonNode p95 = f.get("intervals").get("0.95");
            double fc = f.get("forecast").asDouble();
            assertThat(p95.get("lower").asDouble()).isLessThan(p80.get("lower").asDouble());
            assertThat(p80.get("lower").asDouble()).isLessThan(fc);
            assertThat(p80.get("upper").asDouble())
                .isGreaterThan(fc)
                .isLessThan(p95.get("upper").asDouble());
            assertThat(p80.get("upper").asDouble() - fc)
                .isCloseTo(fc - p80.get("lower").asDouble(), within(1e-9));
          }
          // Fewer than intervals.warmUp (50) errors in 40 events: never warm here.
          assertThat(f.get("intervalsWarm").asBoolean()).isFalse();
        }
      }
      // The first target's next-event entry carries the record's top-level intervals.
      assertThat(all.get(0).get("intervals")).isEqualTo(r.get("intervals"));
      // The record's first-target, next-event fields are what they always were.
      assertThat(r.get("target").asText()).isEqualTo("temperature");
      assertThat(r.get("forecast").asDouble()).isEqualTo(all.get(0).get("forecast").asDouble());
    }
    // The row the last event wrote: its inputs, both actuals, six forecasts and the half-widths
    // published with the four beyond the first horizon at two levels (8 bytes each).
    KeyValueStore<Bytes, byte[]> kept = driver.getKeyValueStore(ForecastTopology.RECENT_STORE);
    byte[] row =
        kept.get(
            Bytes.wrap(
                RecentRows.key(
                    RecentRows.series("seattle"), (n - 1) % StoreRecentInputs.capacity(spec))));
    assertThat(row).hasSize(13 + 4 * pipeline.width() + 8 * (2 + 6) + 8 * 2 * 2 * 2);
    // Scored per target and horizon: n - h forecasts of each.
    for (int j = 0; j < 2; j++) {
      for (int k = 0; k < 3; k++) {
        int tj = j;
        int tk = k;
        assertThat(scored.stream().filter(s -> s[0] == tj && s[1] == tk).count())
            .isEqualTo(n - horizons[k]);
      }
    }
  }

  @Test
  void shouldRefuseAModelWhoseTargetsOrHorizonsDifferFromThePipelines() {
    TopologySpec multi = SpecFixtures.weatherHorizons();
    registry = ModelSources.registry(multi, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE);
    // A single-output model of the same features is refused by the pipeline forecasting six.
    TopologySpec one =
        io.stepcast.config.SpecLoader.load(
            Path.of("topologies/weather-horizons.yaml"),
            Map.of("STEPCAST_TARGET_HORIZONS", "[1]", "STEPCAST_TARGET_ALSO", "[]"));
    assertThat(registry.offer(PipelineModels.fixed(one, 1), "one output"))
        .isEqualTo(ModelRegistry.Outcome.REFUSED);
    assertThat(registry.lastRefusal()).contains("features");
    TopologySpec fewer =
        io.stepcast.config.SpecLoader.load(
            Path.of("topologies/weather-horizons.yaml"),
            Map.of("STEPCAST_TARGET_HORIZONS", "[1, 6]"));
    assertThat(registry.offer(PipelineModels.fixed(fewer, 1), "two horizons"))
        .isEqualTo(ModelRegistry.Outcome.REFUSED);
    assertThat(registry.lastRefusal()).contains("horizons [1, 6]");
    assertThat(registry.offer(PipelineModels.fixed(multi, 1), "right"))
        .isEqualTo(ModelRegistry.Outcome.SWAPPED);
  }
}
