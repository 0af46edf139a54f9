package io.stepcast.bench;

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
import io.stepcast.model.ReferenceRnn;
import io.stepcast.model.RnnWeights;
import io.stepcast.model.SequenceModelBuilder;
import io.stepcast.topology.ForecastTopology;
import io.stepcast.train.PipelineModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WindowedTopologyTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int W = 4;

  @TempDir Path stateDir;

  /**
   * Each forecast of the windowed peer must be the plain-Java reference network run from a zero
   * state over that series' last W feature rows (not over its whole history), mapped back to the
   * target's units; duplicates are dropped and missing fields carried forward as stepcast does.
   */
  @Test
  void shouldForecastWhatTheReferenceGivesOverTheLastWindowOfEachSeries() throws Exception {
    TopologySpec spec = SpecFixtures.weather();
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    RnnWeights w = strongHead(pipeline.width());
    byte[] model =
        SequenceModelBuilder.build(
            w, PipelineModels.specFor(spec, "win", CellType.LSTM, 2, 8).build());

    List<String> ids = new ArrayList<>();
    List<String> json = new ArrayList<>();
    List<Event> events = new ArrayList<>();
    Random r = new Random(5);
    Instant t0 = Instant.parse("2010-01-01T00:00:00Z");
    for (int h = 0; h < 11; h++) {
      for (String id : List.of("a", "b")) {
        double temp = 5 + 3 * Math.sin(h / 3.0) + r.nextGaussian() + (id.equals("b") ? 10 : 0);
        double pressure = 1000 + 5 * r.nextGaussian();
        double wind = 3 + r.nextGaussian();
        String date = t0.plusSeconds(3600L * h).toString().replace("Z", "");
        boolean missingWind = id.equals("a") && h == 6;
        ids.add(id);
        json.add(
            "{\"date\":\""
                + date
                + "\",\"temperature\":"
                + temp
                + ",\"pressure\":"
                + pressure
                + (missingWind ? "" : ",\"wind\":" + wind)
                + "}");
        events.add(
            Event.of(
                id,
                t0.plusSeconds(3600L * h).toEpochMilli(),
                temp,
                pressure,
                missingWind ? Double.NaN : wind));
        if (id.equals("b") && h == 3) {
          // A duplicate (same event time): dropped, as stepcast rejects it.
          ids.add(id);
          json.add(json.get(json.size() - 1).replace("\"temperature\":", "\"temperature\":9"));
          events.add(null);
        }
      }
    }

    List<JsonNode> out = new ArrayList<>();
    try (TopologyTestDriver driver =
        new TopologyTestDriver(
            WindowedTopology.build(spec, model, "win", W),
            ForecastTopology.streamsConfig(spec, "unused:9092", stateDir, Map.of()))) {
      TestInputTopic<byte[], byte[]> in =
          driver.createInputTopic(
              spec.topics().input(), new ByteArraySerializer(), new ByteArraySerializer());
      TestOutputTopic<String, byte[]> forecasts =
          driver.createOutputTopic(
              spec.topics().output(), new StringDeserializer(), new ByteArrayDeserializer());
      for (int i = 0; i < json.size(); i++) {
        in.pipeInput(bytes(ids.get(i)), bytes(json.get(i)));
      }
      for (TestRecord<String, byte[]> rec : forecasts.readRecordsToList()) {
        out.add(JSON.readTree(rec.value()));
      }
      // A full window: the header, the two carried fields and W rows of features.
      byte[] stored = (byte[]) driver.getKeyValueStore(WindowedTopology.STORE).get("a");
      assertThat(stored).hasSize(4 + 8 * 4 + (2 + W * pipeline.width()) * 4);
    }

    ReferenceRnn reference = new ReferenceRnn(w);
    Map<String, SeriesReplay.Memory> memory = new HashMap<>();
    Map<String, List<float[]>> rows = new HashMap<>();
    Map<String, Double> lastForecast = new HashMap<>();
    int k = 0;
    boolean windowMattered = false;
    for (Event e : events) {
      if (e == null) {
        continue;
      }
      String id = e.seriesId();
      SeriesReplay.Memory m =
          memory.computeIfAbsent(id, x -> new SeriesReplay.Memory(e.fields().length));
      assertThat(pipeline.carryForward(e, m)).isEqualTo(-1);
      float[] x = new float[pipeline.width()];
      // The windowed design keeps no raw targets: its lag columns are persistence.
      double[] unknown = new double[pipeline.lagCount()];
      Arrays.fill(unknown, Double.NaN);
      pipeline.features(e, m, unknown, x, 0);
      List<float[]> history = rows.computeIfAbsent(id, x2 -> new ArrayList<>());
      history.add(x);
      float[][] all = history.toArray(new float[0][]);
      float[][] window = Arrays.copyOfRange(all, Math.max(0, all.length - W), all.length);
      float[][] ys = reference.run(window);
      double expected = pipeline.forecast(ys[ys.length - 1][0], e.target());
      double overAll = pipeline.forecast(reference.run(all)[all.length - 1][0], e.target());
      windowMattered |= Math.abs(expected - overAll) > 1e-3;
      pipeline.remember(e, m);

      JsonNode f = out.get(k++);
      assertThat(f.get("series").asText()).isEqualTo(id);
      assertThat(f.get("forecast").asDouble())
          .as("forecast %d", k)
          .isCloseTo(expected, within(1e-3));
      assertThat(f.get("steps").asLong()).isEqualTo(history.size());
      assertThat(f.get("warm").asBoolean()).isEqualTo(history.size() >= W);
      assertThat(f.get("model").asText()).isEqualTo("win");
      Double previous = lastForecast.put(id, f.get("forecast").asDouble());
      if (previous == null) {
        assertThat(f.get("previousForecast").isNull()).isTrue();
      } else {
        assertThat(f.get("previousForecast").asDouble()).isEqualTo(previous);
      }
    }
    assertThat(out).hasSize(k);
    assertThat(k).isEqualTo(22);
    assertThat(windowMattered).as("the window length changes the forecast in this test").isTrue();
  }

  /** Seeded weights whose head is large enough that the output depends on the inputs. */
  private static RnnWeights strongHead(int inputSize) {
    RnnWeights d = DemoModels.persistenceLikeWeights(CellType.LSTM, inputSize, 8, 2, 1, 11);
    float[] head = new float[8];
    Random r = new Random(2);
    for (int i = 0; i < head.length; i++) {
      head[i] = (float) r.nextGaussian();
    }
    float[] xMean = new float[inputSize];
    float[] xStd = new float[inputSize];
    Arrays.fill(xStd, 1f);
    // The raw pressure (~1000) would saturate every gate: scale it as a trained model would.
    xMean[1] = 1000f;
    xStd[1] = 5f;
    return new RnnWeights(
        d.cell(),
        d.inputSize(),
        d.hiddenSize(),
        d.layers(),
        d.outputSize(),
        d.wIh(),
        d.wHh(),
        d.bIh(),
        d.bHh(),
        head,
        new float[] {0.1f},
        xMean,
        xStd,
        new float[1],
        new float[] {2f});
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
