package io.stepcast.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.AnomalyPolicy;
import io.stepcast.features.Rejection;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelRegistry;
import io.stepcast.serve.ModelSources;
import io.stepcast.state.SeriesState;
import io.stepcast.train.PipelineModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prediction intervals and injected outliers through the real forecasting topology, under each
 * anomaly policy: the sample weather's first 300 hours, one of them 25 °C too warm (inside the
 * spec's plausible range, so it reaches the engine).
 */
class AnomalyTopologyTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int HOURS = 300;
  private static final int OUTLIER = 250;

  @TempDir Path stateDir;

  private TopologyTestDriver driver;
  private ModelRegistry registry;
  private TestInputTopic<byte[], byte[]> input;
  private TestOutputTopic<String, byte[]> output;
  private TestOutputTopic<byte[], byte[]> deadLetters;
  private final Counting metrics = new Counting();

  /** What the topology reports about anomalies and coverage. */
  private static final class Counting implements ForecastMetrics {
    final List<AnomalyPolicy> anomalies = new ArrayList<>();
    final List<Rejection> deadLetters = new ArrayList<>();
    final long[] inside = new long[2];
    final long[] total = new long[2];

    @Override
    public void anomaly(AnomalyPolicy outcome) {
      anomalies.add(outcome);
    }

    @Override
    public void covered(int level, boolean in) {
      total[level]++;
      inside[level] += in ? 1 : 0;
    }

    @Override
    public void deadLetter(Rejection reason) {
      deadLetters.add(reason);
    }
  }

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  private void start(TopologySpec spec) {
    registry = ModelSources.registry(spec, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE);
    assertThat(registry.offer(PipelineModels.fixed(spec, 1), "test"))
        .isEqualTo(ModelRegistry.Outcome.SWAPPED);
    Properties p = ForecastTopology.streamsConfig(spec, "unused:9092", stateDir, Map.of());
    driver = new TopologyTestDriver(ForecastTopology.build(spec, registry, metrics), p);
    input =
        driver.createInputTopic(
            spec.topics().input(), new ByteArraySerializer(), new ByteArraySerializer());
    output =
        driver.createOutputTopic(
            spec.topics().output(), new StringDeserializer(), new ByteArrayDeserializer());
    deadLetters =
        driver.createOutputTopic(
            spec.topics().deadLetter(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** The sample's first hours as events, with the outlier; returns the actual temperatures. */
  private double[] pipeSample() throws Exception {
    List<String> lines = Files.readAllLines(Path.of("samples/seattle-weather-hourly-normals.csv"));
    double[] temps = new double[HOURS];
    for (int i = 0; i < HOURS; i++) {
      String[] c = lines.get(i + 1).split(",");
      temps[i] = Double.parseDouble(c[2]) + (i == OUTLIER ? 25 : 0);
      String json =
          "{\"date\":\""
              + c[0]
              + "\",\"pressure\":"
              + c[1]
              + ",\"temperature\":"
              + temps[i]
              + ",\"wind\":"
              + c[3]
              + "}";
      input.pipeInput(
          "seattle".getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8));
    }
    return temps;
  }

  private List<JsonNode> forecasts() throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (byte[] v : output.readValuesToList()) {
      out.add(JSON.readTree(v));
    }
    return out;
  }

  private SeriesState state() {
    KeyValueStore<String, SeriesState> store =
        driver.getKeyValueStore(ForecastTopology.STATE_STORE);
    return store.get("seattle");
  }

  /** Whether {@code actual} lies outside the {@code level} interval of an earlier record. */
  private static boolean outside(JsonNode record, String level, double actual) {
    JsonNode i = record.get("intervals").get(level);
    return actual < i.get("lower").asDouble() || actual > i.get("upper").asDouble();
  }

  @Test
  void shouldFlagEachActualOutsideTheWidestIntervalOfThePreviousForecastAndStepOnIt()
      throws Exception {
    start(SpecFixtures.weather());
    double[] temps = pipeSample();
    List<JsonNode> f = forecasts();
    assertThat(f).hasSize(HOURS);
    assertThat(deadLetters.isEmpty()).isTrue();
    assertThat(f.get(0).get("intervals").isNull()).isTrue();
    int flagged = 0;
    for (int t = 1; t < HOURS; t++) {
      JsonNode r = f.get(t);
      JsonNode i = r.get("intervals");
      double forecast = r.get("forecast").asDouble();
      // Nested intervals around the forecast, for the record's users.
      assertThat(i.get("0.8").get("lower").asDouble())
          .isLessThan(forecast)
          .isGreaterThan(i.get("0.95").get("lower").asDouble());
      assertThat(i.get("0.8").get("upper").asDouble())
          .isGreaterThan(forecast)
          .isLessThan(i.get("0.95").get("upper").asDouble());
      // The flag is the previous record's widest interval against this actual, as a user checks.
      boolean expected =
          !f.get(t - 1).get("intervals").isNull() && outside(f.get(t - 1), "0.95", temps[t]);
      assertThat(r.get("anomaly").asBoolean()).as("hour %d", t).isEqualTo(expected);
      assertThat(r.get("held").asBoolean()).isFalse();
      assertThat(r.get("intervalsWarm").asBoolean()).isEqualTo(t >= 50);
      flagged += expected ? 1 : 0;
    }
    assertThat(f.get(OUTLIER).get("anomaly").asBoolean()).isTrue();
    assertThat(f.get(OUTLIER).get("actual").asDouble()).isEqualTo(temps[OUTLIER]);
    assertThat(metrics.anomalies).hasSize(flagged).containsOnly(AnomalyPolicy.FLAG);
    // Flagged, the outlier stepped the series: its state remembers it.
    assertThat(state().steps()).isEqualTo(HOURS);
    // Coverage is counted once the series is warm (50 scored errors), per level.
    assertThat(metrics.total).containsExactly(HOURS - 1 - 50, HOURS - 1 - 50);
  }

  @Test
  void shouldHoldTheOutlierOutOfTheStateAndStepOnItsForecast() throws Exception {
    start(SpecFixtures.withAnomalyPolicy(SpecFixtures.weather(), AnomalyPolicy.HOLD));
    double[] temps = pipeSample();
    List<JsonNode> f = forecasts();
    assertThat(f).hasSize(HOURS);
    JsonNode r = f.get(OUTLIER);
    assertThat(r.get("anomaly").asBoolean()).isTrue();
    assertThat(r.get("held").asBoolean()).isTrue();
    // The record shows what arrived; the forecast comes from the held value (the forecast made for
    // it), not from 25 degrees too warm.
    assertThat(r.get("actual").asDouble()).isEqualTo(temps[OUTLIER]);
    double madeForIt = f.get(OUTLIER - 1).get("forecast").asDouble();
    assertThat(Math.abs(r.get("forecast").asDouble() - madeForIt)).isLessThan(3);
    assertThat(metrics.anomalies).contains(AnomalyPolicy.HOLD).doesNotContain(AnomalyPolicy.FLAG);
    // Every anomaly is held, and every held record is an anomaly.
    for (JsonNode x : f) {
      assertThat(x.get("held").asBoolean()).isEqualTo(x.get("anomaly").asBoolean());
    }
    assertThat(deadLetters.isEmpty()).isTrue();
  }

  @Test
  void shouldDeadLetterTheOutlierWithReasonAnomalyAndKeepForecastingTheSeries() throws Exception {
    start(SpecFixtures.withAnomalyPolicy(SpecFixtures.weather(), AnomalyPolicy.DEAD_LETTER));
    double[] temps = pipeSample();
    List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
    List<JsonNode> f = forecasts();
    assertThat(f.size() + dead.size()).isEqualTo(HOURS);
    assertThat(dead)
        .extracting(d -> DeadLetters.read(d.headers(), DeadLetters.REASON))
        .containsOnly("anomaly");
    TestRecord<byte[], byte[]> outlier =
        dead.stream()
            .filter(
                d ->
                    new String(d.value(), StandardCharsets.UTF_8)
                        .contains("\"temperature\":" + temps[OUTLIER]))
            .findFirst()
            .orElseThrow();
    assertThat(DeadLetters.read(outlier.headers(), DeadLetters.STAGE)).isEqualTo("forecast");
    assertThat(DeadLetters.read(outlier.headers(), DeadLetters.MESSAGE))
        .contains("outside the widest prediction interval (0.95)");
    assertThat(metrics.deadLetters).hasSize(dead.size()).containsOnly(Rejection.ANOMALY);
    assertThat(metrics.anomalies).hasSize(dead.size()).containsOnly(AnomalyPolicy.DEAD_LETTER);
    // No forecast record for the dead-lettered hours; none of the others is an anomaly.
    assertThat(f).noneMatch(x -> x.get("anomaly").asBoolean());
    assertThat(f).noneMatch(x -> x.get("actual").asDouble() == temps[OUTLIER]);
    // The series stepped every other hour, and its calibration learnt every miss.
    SeriesState s = state();
    assertThat(s.steps()).isEqualTo(f.size());
    assertThat(s.intervalCount()).isEqualTo(HOURS - 1);
    assertThat(f.get(f.size() - 1).get("eventTime").asLong()).isEqualTo(s.lastEventTime());
  }
}
