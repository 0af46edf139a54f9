package io.stepcast.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.Rejection;
import io.stepcast.features.SeriesReplay;
import io.stepcast.model.CellType;
import io.stepcast.model.DemoModels;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.ReferenceRnn;
import io.stepcast.model.RnnWeights;
import io.stepcast.serve.ModelSources;
import io.stepcast.state.RecentRows;
import io.stepcast.state.SeriesState;
import io.stepcast.state.SeriesStateSerde;
import io.stepcast.state.V1Format;
import io.stepcast.train.PipelineModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
import org.apache.kafka.streams.state.internals.WrappedStateStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ForecastTopologyTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path stateDir;

  private TopologyTestDriver driver;
  private ModelRegistry registry;
  private TestInputTopic<byte[], byte[]> input;
  private TestOutputTopic<String, byte[]> output;
  private TestOutputTopic<byte[], byte[]> deadLetters;
  private CountingMetrics metrics;

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
      driver = null;
    }
    if (registry != null) {
      registry.close();
      registry = null;
    }
  }

  private void start(TopologySpec spec, byte[] model) {
    metrics = new CountingMetrics();
    registry = registry(spec);
    assertThat(registry.offer(model, "test")).isEqualTo(ModelRegistry.Outcome.SWAPPED);
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

  private static ModelRegistry registry(TopologySpec spec) {
    return ModelSources.registry(spec, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE);
  }

  private static byte[] b(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }

  private static String weatherEvent(int hour, double temperature) {
    return String.format(
        Locale.ROOT,
        "{\"date\":\"2010-01-%02dT%02d:00:00\",\"pressure\":1016.5,\"temperature\":%s,\"wind\":3.5}",
        1 + hour / 24,
        hour % 24,
        temperature);
  }

  private JsonNode readForecast() throws Exception {
    return JSON.readTree(output.readValue());
  }

  private SeriesState state(String id) {
    KeyValueStore<String, SeriesState> store =
        driver.getKeyValueStore(ForecastTopology.STATE_STORE);
    return store.get(id);
  }

  @Test
  void shouldEmitOneForecastPerGoodEventMatchingAPlainJavaReference() throws Exception {
    TopologySpec spec = SpecFixtures.weather();
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    var t = spec.training();
    RnnWeights w =
        DemoModels.persistenceLikeWeights(
            CellType.LSTM, pipeline.width(), t.hiddenSize(), t.layers(), 1, 7);
    byte[] model =
        io.stepcast.model.StepModelBuilder.build(
            w,
            PipelineModels.specFor(spec, "ref-7", CellType.LSTM, t.layers(), t.hiddenSize())
                .build());
    start(spec, model);
    // Past the largest lag (25), so the lag features read rows kept in the series-recent store.
    double[] temps = new double[40];
    for (int h = 0; h < temps.length; h++) {
      temps[h] = 4.0 + Math.sin(2 * Math.PI * h / 24) + 0.01 * h;
    }
    List<Event> events = new ArrayList<>();
    for (int h = 0; h < temps.length; h++) {
      input.pipeInput(b("seattle"), b(weatherEvent(h + 1, temps[h])));
      events.add(Event.of("seattle", 1262307600000L + 3_600_000L * h, temps[h], 1016.5, 3.5));
    }
    // The independent reference: the same features, a plain-Java LSTM on the same weights.
    SeriesReplay.Memory memory = new SeriesReplay.Memory(2);
    ReferenceRnn ref = new ReferenceRnn(w);
    float[][] st = ref.zeroState();
    float[] x = new float[pipeline.width()];
    double[] lagged = new double[pipeline.lagCount()];
    assertThat(pipeline.lags()).containsExactly(24, 25);
    for (int i = 0; i < temps.length; i++) {
      // The target lag events before the forecast one: lag - 1 events before this one.
      for (int j = 0; j < lagged.length; j++) {
        int back = i - (pipeline.lag(j) - 1);
        lagged[j] = back >= 0 ? temps[back] : Double.NaN;
      }
      pipeline.features(events.get(i), memory, lagged, x, 0);
      int lagColumn = pipeline.columns().indexOf("temperature:lag24");
      assertThat(x[lagColumn]).isEqualTo(i >= 23 ? (float) (temps[i - 23] - temps[i]) : 0f);
      float[] y = ref.step(x, st);
      pipeline.remember(events.get(i), memory);
      JsonNode f = readForecast();
      assertThat(f.get("series").asText()).isEqualTo("seattle");
      assertThat(f.get("model").asText()).isEqualTo("ref-7");
      assertThat(f.get("steps").asLong()).isEqualTo(i + 1);
      assertThat(f.get("actual").asDouble()).isEqualTo(temps[i]);
      assertThat(f.get("forecast").asDouble()).isCloseTo(temps[i] + y[0], within(1e-5));
      assertThat(f.get("error").isNull()).isEqualTo(i == 0);
    }
    assertThat(output.isEmpty()).isTrue();
    assertThat(deadLetters.isEmpty()).isTrue();
    assertThat(state("seattle").steps()).isEqualTo(temps.length);
    assertThat(metrics.forecasts).isEqualTo(temps.length);
  }

  @Test
  void shouldRouteMalformedJsonToDeadLetterTopicWithReasonAndSource() {
    start(SpecFixtures.weather(), PipelineModels.fixed(SpecFixtures.weather(), 1));
    input.pipeInput(b("seattle"), b("{\"date\": oops"));
    TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
    assertThat(new String(dead.value(), StandardCharsets.UTF_8)).isEqualTo("{\"date\": oops");
    assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo("seattle");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.REASON)).isEqualTo("malformed_json");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.SOURCE_TOPIC))
        .isEqualTo("weather-events");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.SOURCE_OFFSET)).isEqualTo("0");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.STAGE)).isEqualTo("parse");
    assertThat(output.isEmpty()).isTrue();
    assertThat(state("seattle")).isNull();
    assertThat(metrics.deadLetters).containsExactly(Rejection.MALFORMED_JSON);
  }

  @Test
  void shouldDeadLetterLateAndDuplicateEventsWithoutAdvancingTheSeries() {
    start(SpecFixtures.weather(), PipelineModels.fixed(SpecFixtures.weather(), 1));
    input.pipeInput(b("seattle"), b(weatherEvent(5, 4.0)));
    input.pipeInput(b("seattle"), b(weatherEvent(3, 4.0)));
    input.pipeInput(b("seattle"), b(weatherEvent(5, 4.1)));
    assertThat(output.readValuesToList()).hasSize(1);
    List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
    assertThat(dead)
        .extracting(r -> DeadLetters.read(r.headers(), DeadLetters.REASON))
        .containsExactly("late", "duplicate");
    assertThat(dead)
        .extracting(r -> DeadLetters.read(r.headers(), DeadLetters.SOURCE_OFFSET))
        .containsExactly("1", "2");
    SeriesState s = state("seattle");
    assertThat(s.steps()).isEqualTo(1);
    assertThat(s.lastTarget()).isEqualTo(4.0);
  }

  @Test
  void shouldCarryForwardAMissingFieldOrRejectWhenThereIsNothingToCarry() throws Exception {
    start(SpecFixtures.weather(), PipelineModels.fixed(SpecFixtures.weather(), 1));
    input.pipeInput(
        b("seattle"), b("{\"date\":\"2010-01-01T01:00:00\",\"temperature\":4.0,\"wind\":3}"));
    TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.REASON)).isEqualTo("missing_field");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.MESSAGE)).contains("pressure");
    input.pipeInput(b("seattle"), b(weatherEvent(2, 4.0)));
    input.pipeInput(b("seattle"), b("{\"date\":\"2010-01-01T03:00:00\",\"temperature\":4.2}"));
    assertThat(output.readValuesToList()).hasSize(2);
    assertThat(state("seattle").lastFields()).containsExactly(1016.5f, 3.5f);
  }

  @Test
  void shouldRepartitionBySeriesFieldAndKeepSeriesApart() throws Exception {
    TopologySpec stocks = SpecFixtures.stocks();
    start(stocks, PipelineModels.fixed(stocks, 3));
    input.pipeInput(b("any"), b("{\"symbol\":\"MSFT\",\"date\":\"Jan 1 2000\",\"price\":39.81}"));
    input.pipeInput(b("other"), b("{\"symbol\":\"AAPL\",\"date\":\"Jan 1 2000\",\"price\":25.94}"));
    input.pipeInput(b("x"), b("{\"symbol\":\"MSFT\",\"date\":\"Feb 1 2000\",\"price\":36.35}"));
    input.pipeInput(b("x"), b("{\"symbol\":\"MSFT\",\"date\":\"Jan 1 2000\",\"price\":1}"));
    List<JsonNode> out = new ArrayList<>();
    for (byte[] v : output.readValuesToList()) {
      out.add(JSON.readTree(v));
    }
    assertThat(out)
        .extracting(n -> n.get("series").asText())
        .containsExactly("MSFT", "AAPL", "MSFT");
    assertThat(out.get(2).get("steps").asInt()).isEqualTo(2);
    TestRecord<byte[], byte[]> late = deadLetters.readRecord();
    assertThat(DeadLetters.read(late.headers(), DeadLetters.REASON)).isEqualTo("late");
    assertThat(DeadLetters.read(late.headers(), DeadLetters.SOURCE_TOPIC))
        .isEqualTo("stock-events");
    assertThat(DeadLetters.read(late.headers(), DeadLetters.SOURCE_OFFSET)).isEqualTo("3");
    assertThat(new String(late.value(), StandardCharsets.UTF_8)).contains("\"price\":1");
  }

  @Test
  void shouldBurnInFromTheRingBufferWhenTheModelChanges() throws Exception {
    TopologySpec spec = SpecFixtures.weather();
    start(spec, PipelineModels.fixed(spec, 1));
    for (int h = 1; h <= 5; h++) {
      input.pipeInput(b("seattle"), b(weatherEvent(h, 4.0 + h / 10.0)));
    }
    output.readValuesToList();
    assertThat(registry.offer(PipelineModels.fixed(spec, 2), "test"))
        .isEqualTo(ModelRegistry.Outcome.SWAPPED);
    input.pipeInput(b("seattle"), b(weatherEvent(6, 4.7)));
    JsonNode f = readForecast();
    assertThat(f.get("model").asText()).isEqualTo("weather-fixed-2");
    // The first event after the swap still scores the old model's last forecast.
    assertThat(f.get("previousForecast").isNumber()).isTrue();
    assertThat(f.get("error").asDouble()).isEqualTo(4.7 - f.get("previousForecast").asDouble());
    assertThat(state("seattle").errorCount()).isEqualTo(5);
    SeriesState s = state("seattle");
    assertThat(s.steps()).isEqualTo(6);
    assertThat(s.modelSteps()).isEqualTo(6);
    assertThat(metrics.burnIns).isEqualTo(1);
  }

  @Test
  void shouldNotCallIntervalsWarmAfterAModelSwapUntilTheNewModelIsScoredSwapWarmUpTimes()
      throws Exception {
    TopologySpec spec = SpecFixtures.weather();
    start(spec, PipelineModels.fixed(spec, 1));
    for (int h = 0; h < 80; h++) {
      input.pipeInput(b("seattle"), b(weatherEvent(h, 4.0 + Math.sin(h / 4.0))));
    }
    List<byte[]> before = output.readValuesToList();
    assertThat(JSON.readTree(before.get(before.size() - 1)).get("intervalsWarm").asBoolean())
        .isTrue();
    registry.offer(PipelineModels.fixed(spec, 2), "test");
    for (int i = 0; i < 30; i++) {
      input.pipeInput(b("seattle"), b(weatherEvent(80 + i, 4.0 + Math.sin((80 + i) / 4.0))));
      JsonNode f = readForecast();
      assertThat(f.get("model").asText()).isEqualTo("weather-fixed-2");
      // The calibration is kept (intervals on every record), but warm again only once 20 of the
      // new model's forecasts have been scored (intervals.swapWarmUp).
      assertThat(f.get("intervals").get("0.95").get("upper").isNumber()).isTrue();
      assertThat(f.get("intervalsWarm").asBoolean())
          .as("event %d after the swap", i)
          .isEqualTo(i >= 20);
    }
    assertThat(state("seattle").eventsSinceSwap()).isEqualTo(30);
  }

  @Test
  void shouldUpgradeAVersionOneStateOnItsNextEventAndBurnInFromItsRingBuffer() throws Exception {
    TopologySpec spec = SpecFixtures.weather();
    int width = new FeaturePipeline(spec).width();
    int capacity = spec.model().ringBuffer();
    // Run A: the current format all along; five events, a swap, a sixth event.
    start(spec, PipelineModels.fixed(spec, 1));
    for (int h = 1; h <= 5; h++) {
      input.pipeInput(b("seattle"), b(weatherEvent(h, 4.0 + h / 10.0)));
    }
    output.readValuesToList();
    float[] ring = new float[5 * width];
    KeyValueStore<Bytes, byte[]> recent = driver.getKeyValueStore(ForecastTopology.RECENT_STORE);
    for (int step = 0; step < 5; step++) {
      byte[] row = recent.get(recentKey("seattle", step % capacity));
      assertThat(RecentRows.row(row, step, ring, step * width, width)).isTrue();
    }
    registry.offer(PipelineModels.fixed(spec, 2), "test");
    input.pipeInput(b("seattle"), b(weatherEvent(6, 4.7)));
    JsonNode current = readForecast();
    close();

    // Run B: the same, but before the swap the series' state is what the first release wrote:
    // format v1 with the recent inputs in its ring buffer, and no rows in the recent store.
    start(spec, PipelineModels.fixed(spec, 1));
    for (int h = 1; h <= 5; h++) {
      input.pipeInput(b("seattle"), b(weatherEvent(h, 4.0 + h / 10.0)));
    }
    output.readValuesToList();
    byte[] v1 = V1Format.encode(state("seattle"), "weather-fixed-1", capacity, ring, 5, width);
    KeyValueStore<Bytes, byte[]> raw = rawStateStore();
    raw.put(Bytes.wrap(b("seattle")), v1);
    recent = driver.getKeyValueStore(ForecastTopology.RECENT_STORE);
    for (int step = 0; step < 5; step++) {
      recent.delete(recentKey("seattle", step));
    }
    assertThat(state("seattle").legacyRows()).isEqualTo(5);
    registry.offer(PipelineModels.fixed(spec, 2), "test");
    input.pipeInput(b("seattle"), b(weatherEvent(6, 4.7)));
    JsonNode upgraded = readForecast();

    assertThat(upgraded.get("forecast").asDouble()).isEqualTo(current.get("forecast").asDouble());
    assertThat(upgraded.get("error").asDouble()).isEqualTo(current.get("error").asDouble());
    assertThat(upgraded.get("warm").asBoolean()).isEqualTo(current.get("warm").asBoolean());
    assertThat(metrics.burnIns).isEqualTo(1);
    // Written again in the current format, its ring moved to the recent store, the sixth row
    // beside it.
    assertThat(raw.get(Bytes.wrap(b("seattle")))[0]).isEqualTo(SeriesStateSerde.VERSION);
    assertThat(state("seattle").legacyRows()).isZero();
    for (int step = 0; step < 6; step++) {
      assertThat(
              RecentRows.row(
                  recent.get(recentKey("seattle", step)), step, new float[width], 0, width))
          .as("recent row of step %d", step)
          .isTrue();
    }
  }

  private static Bytes recentKey(String series, int slot) {
    return Bytes.wrap(RecentRows.key(RecentRows.series(series), slot));
  }

  /** The state store's bytes, as RocksDB holds them (beneath the serde). */
  @SuppressWarnings("unchecked")
  private KeyValueStore<Bytes, byte[]> rawStateStore() {
    Object typed = driver.getKeyValueStore(ForecastTopology.STATE_STORE);
    return ((WrappedStateStore<KeyValueStore<Bytes, byte[]>, ?, ?>) typed).wrapped();
  }

  @Test
  void shouldForwardEveryStagedForecastBeforeTheCommitWhenBatching() throws Exception {
    // TopologyTestDriver commits after every record: with batching on, each record's forecast must
    // still be out when pipeInput returns (stepped by BeforeCommit's flush listener), and the same
    // as stepping one at a time.
    List<String> expected = new ArrayList<>();
    List<String> batched = new ArrayList<>();
    for (String batch : List.of("1", "64")) {
      TopologySpec spec =
          io.stepcast.config.SpecLoader.load(
              Path.of("topologies/weather.yaml"), Map.of("STEPCAST_PROCESSING_BATCH_SIZE", batch));
      start(spec, PipelineModels.fixed(spec, 5));
      for (int h = 1; h <= 6; h++) {
        for (String id : List.of("a", "b", "c")) {
          input.pipeInput(b(id), b(weatherEvent(h, 3.0 + h / 10.0 + id.charAt(0) % 7)));
          List<byte[]> out = output.readValuesToList();
          assertThat(out).as("forecasts out after %s@%d", id, h).hasSize(1);
          (batch.equals("1") ? expected : batched)
              .add(new String(out.get(0), StandardCharsets.UTF_8));
        }
      }
      assertThat(state("b").steps()).isEqualTo(6);
      close();
    }
    assertThat(batched).isEqualTo(expected);
  }

  @Test
  void shouldResetTheSeriesWhenTheSpecSaysReset() throws Exception {
    TopologySpec base = SpecFixtures.weather();
    var m = base.model();
    TopologySpec spec =
        SpecFixtures.withModel(
            base,
            new TopologySpec.Model(
                m.directory(),
                m.followTopic(),
                TopologySpec.OnSwap.RESET,
                m.ringBuffer(),
                m.pollIntervalMs(),
                m.startupTimeoutMs(),
                m.pin()));
    start(spec, PipelineModels.fixed(spec, 1));
    for (int h = 1; h <= 3; h++) {
      input.pipeInput(b("seattle"), b(weatherEvent(h, 4.0)));
    }
    registry.offer(PipelineModels.fixed(spec, 2), "test");
    input.pipeInput(b("seattle"), b(weatherEvent(4, 4.0)));
    assertThat(state("seattle").modelSteps()).isEqualTo(1);
    assertThat(metrics.burnIns).isZero();
  }

  @Test
  void shouldKeepServingWhenABadModelIsOffered() throws Exception {
    TopologySpec spec = SpecFixtures.weather();
    start(spec, PipelineModels.fixed(spec, 1));
    assertThat(registry.offer(new byte[] {1, 2, 3}, "garbage"))
        .isEqualTo(ModelRegistry.Outcome.REFUSED);
    assertThat(registry.offer(PipelineModels.fixed(SpecFixtures.stocks(), 1), "other pipeline"))
        .isEqualTo(ModelRegistry.Outcome.REFUSED);
    assertThat(registry.lastRefusal()).contains("stocks");
    input.pipeInput(b("seattle"), b(weatherEvent(1, 4.0)));
    assertThat(readForecast().get("model").asText()).isEqualTo("weather-fixed-1");
  }

  @Test
  void shouldMatchTheCommittedTopologyDescriptions() throws Exception {
    for (TopologySpec spec :
        List.of(SpecFixtures.weather(), SpecFixtures.stocks(), SpecFixtures.weatherHorizons())) {
      String actual =
          ForecastTopology.build(spec, registry(spec), ForecastMetrics.NOOP).describe().toString();
      Path committed = Path.of("topologies", spec.name() + ".topology.txt");
      if (Boolean.getBoolean("stepcast.updateTopologies")) {
        Files.writeString(committed, actual);
      }
      assertThat(actual)
          .as(
              "Topology of %s changed. If on purpose, rerun with -Dstepcast.updateTopologies=true and"
                  + " commit %s; a renamed store or internal topic loses state on upgrade.",
              spec.name(), committed)
          .isEqualTo(Files.readString(committed));
    }
  }

  @Test
  void shouldCountTheSeriesHeldInTheStateStoreAndReleaseThemOnClose() {
    TopologySpec spec = SpecFixtures.weather();
    start(spec, PipelineModels.fixed(spec, 3));
    assertThat(metrics.seriesByTask).containsOnlyKeys("0_0").containsEntry("0_0", 0L);

    input.pipeInput(b("a"), b(weatherEvent(1, 5.0)));
    input.pipeInput(b("a"), b(weatherEvent(2, 5.5)));
    input.pipeInput(b("b"), b(weatherEvent(1, 7.0)));
    input.pipeInput(b("c"), b("not json"));
    input.pipeInput(b("a"), b(weatherEvent(1, 4.0)));

    assertThat(metrics.seriesByTask).containsEntry("0_0", 2L);
    driver.close();
    driver = null;
    assertThat(metrics.seriesByTask).isEmpty();
  }

  /** Counts what the topology reports. */
  static final class CountingMetrics implements ForecastMetrics {
    int forecasts;
    int burnIns;
    final List<Rejection> deadLetters = new ArrayList<>();
    final Map<String, Long> seriesByTask = new java.util.HashMap<>();

    @Override
    public void forecast() {
      forecasts++;
    }

    @Override
    public void deadLetter(Rejection reason) {
      deadLetters.add(reason);
    }

    @Override
    public void skipped(Rejection reason) {}

    @Override
    public void step(long nanos, int batch) {}

    @Override
    public void scored(double a, double b) {}

    @Override
    public void burnIn() {
      burnIns++;
    }

    @Override
    public void seriesHeld(String task, long count) {
      seriesByTask.put(task, count);
    }

    @Override
    public void seriesReleased(String task) {
      seriesByTask.remove(task);
    }
  }
}
