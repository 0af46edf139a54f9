package io.stepcast.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.Csv;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.ModelSpec;
import io.stepcast.model.StepModel;
import io.stepcast.model.Stepper;
import io.stepcast.serve.ModelSources;
import io.stepcast.topology.ForecastMetrics;
import io.stepcast.topology.ForecastTopology;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The full training path on synthetic history: CSV through the event parser, training, scoring,
 * export and the parity checks. One training is shared by the tests that only read its result.
 */
class TrainingRunTest {

  @TempDir static Path dir;

  private static TopologySpec spec;
  private static TrainingData data;
  private static TrainConfig cfg;
  private static TrainingRun.Result result;

  @BeforeAll
  static void train() throws Exception {
    spec = SyntheticHistory.spec(dir, Map.of());
    data = TrainingData.fromCsv(spec, Csv.parse("synth.csv", SyntheticHistory.csv(3, 480, 11)));
    cfg = TrainingRun.config(spec, null, null);
    result = TrainingRun.run(spec, data, cfg, "synth-test-1", TrainingListener.NONE);
  }

  @Test
  void shouldBeatPersistenceByAClearMarginOnTheValidationPart() {
    TrainingReport r = result.report();

    assertThat(r.series()).hasSize(3);
    // 479 rows per series: the last 10% (48) are the test part, the 20% (96) before it validation.
    assertThat(r.overall().validation().model().count()).isEqualTo(3L * 96);
    assertThat(r.overall().test().model().count()).isEqualTo(3L * 48);
    assertThat(r.overall().trainRows()).isEqualTo(3 * (479 - 96 - 48));
    // A daily cycle with small noise: persistence lags the cycle, a model that knows the hour does
    // not, on the part that picked the epoch and on the part nothing was chosen on.
    for (TrainingReport.PartScores p :
        java.util.List.of(r.overall().validation(), r.overall().test())) {
      assertThat(p.model().mae()).isLessThan(0.5 * p.persistence().mae());
      assertThat(p.seasonalNaive()).isNotNull();
      assertThat(p.linearAr().count()).isEqualTo(p.model().count());
    }
    for (TrainingReport.SeriesReport s : r.series()) {
      assertThat(s.validation().model().mae())
          .as(s.id())
          .isLessThan(0.6 * s.validation().persistence().mae());
    }
    // No order in the spec: AIC picks one on the training parts, and the report says so.
    assertThat(r.arOrderChosenBy()).startsWith("aic");
    assertThat(r.arOrder()).isBetween(1, 30);
    assertThat(r.gate().part()).isEqualTo("test");
    assertThat(r.skippedUpdates()).isZero();
    assertThat(r.warnings()).isEmpty();
  }

  @Test
  void shouldExportAModelThatStepsLikeTheTrainersForwardPass() throws Exception {
    try (StepModel model = StepModel.load(result.onnx(), ExecutionConfig.cpu())) {
      ModelSpec ms = model.spec();
      assertThat(ms.version()).isEqualTo("synth-test-1");
      assertThat(ms.features()).isEqualTo(new FeaturePipeline(spec).columns());
      assertThat(ms.training())
          .containsKeys("val_mae", "persistence_mae", "seasonal_naive_mae", "linear_ar_mae");
      assertThat(ms.training().get("val_mae"))
          .isEqualTo(result.report().overall().validation().model().mae());
      assertThat(ms.training().get("test_mae"))
          .isEqualTo(result.report().overall().test().model().mae());
      assertThat(ms.training()).containsKeys("test_persistence_mae", "ar_order");
      // Golden vectors are real inputs: the first rows of the first series.
      assertThat(ms.golden().x()[3]).containsExactly(data.series().get(0).rows().x()[3]);

      for (TrainingData.Series s : data.series()) {
        float[][] x = s.rows().x();
        float[][] torch = RnnTrainer.forward(result.trained().weights(), x);
        float[][] states = {new float[model.stateSize(0)]};
        float[] y = new float[1];
        double max = 0;
        try (Stepper stepper = model.newStepper(1)) {
          for (int t = 0; t < x.length; t++) {
            stepper.step(x[t], states, y);
            max = Math.max(max, Math.abs(y[0] - torch[t][0]));
          }
        }
        assertThat(max).as("series %s", s.id()).isLessThanOrEqualTo(TrainingRun.EXPORT_TOLERANCE);
      }
    }
    assertThat(result.report().parity().exportMaxAbsDiff()).isLessThanOrEqualTo(1e-4);
  }

  @Test
  void shouldReproduceTheTrainersValidationErrorWhenTheRawRecordsRunThroughTheForecastTopology()
      throws Exception {
    ObjectMapper json = new ObjectMapper();
    Properties p =
        ForecastTopology.streamsConfig(spec, "unused:9092", dir.resolve("state"), Map.of());
    try (ModelRegistry registry =
            ModelSources.registry(spec, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE);
        TopologyTestDriver driver = driver(registry, p)) {
      TestInputTopic<byte[], byte[]> in =
          driver.createInputTopic(
              spec.topics().input(), new ByteArraySerializer(), new ByteArraySerializer());
      TestOutputTopic<String, byte[]> out =
          driver.createOutputTopic(
              spec.topics().output(), new StringDeserializer(), new ByteArrayDeserializer());
      Accuracy.Sum served = new Accuracy.Sum();
      for (TrainingData.Series s : data.series()) {
        int rows = s.rows().x().length;
        int valStart = TrainingRun.validationStart(rows, cfg);
        for (TrainingData.RawRecord r : s.records()) {
          in.pipeInput(r.key(), r.value());
        }
        var forecasts = out.readValuesToList();
        assertThat(forecasts).hasSize(s.length());
        // The forecast made at event t is scored at event t + 1: its "error" field.
        for (int t = valStart + 1; t <= rows; t++) {
          JsonNode f = json.readTree(forecasts.get(t));
          served.add(f.get("error").asDouble());
          assertThat(f.get("model").asText()).isEqualTo("synth-test-1");
        }
      }
      double trainer = result.report().parity().trainerMae();
      assertThat(served.count())
          .isEqualTo(
              result.report().overall().validation().model().count()
                  + result.report().overall().test().model().count());
      assertThat(Math.abs(served.accuracy().mae() - trainer) / trainer).isLessThanOrEqualTo(0.01);
    }
  }

  private TopologyTestDriver driver(ModelRegistry registry, Properties p) {
    assertThat(registry.offer(result.onnx(), "test")).isEqualTo(ModelRegistry.Outcome.SWAPPED);
    return new TopologyTestDriver(ForecastTopology.build(spec, registry, ForecastMetrics.NOOP), p);
  }

  @Test
  void shouldScoreAModelTheSameWayTheGateDoes() throws Exception {
    try (StepModel model = StepModel.load(result.onnx(), ExecutionConfig.cpu())) {
      Accuracy a = TrainingRun.evaluate(model, spec, data, cfg);
      // The gate compares on the test part: the validation part picked this model's epoch.
      assertThat(a.count()).isEqualTo(result.report().overall().test().model().count());
      assertThat(a.mae()).isEqualTo(result.report().gate().mae());
    }
  }

  @Test
  void shouldTrainExportAndPassBothParityChecksWithTheSimpleRnnCell() throws Exception {
    TopologySpec rnn = SyntheticHistory.spec(dir, Map.of("STEPCAST_TRAINING_CELL", "rnn"));
    TrainingData small =
        TrainingData.fromCsv(rnn, Csv.parse("rnn.csv", SyntheticHistory.csv(2, 240, 4)));
    TrainConfig rnnCfg = TrainingRun.config(rnn, null, 3);

    TrainingRun.Result r = TrainingRun.run(rnn, small, rnnCfg, "synth-rnn", TrainingListener.NONE);

    assertThat(r.report().network()).isEqualTo("rnn 1x16");
    assertThat(r.report().parity().exportMaxAbsDiff()).isLessThanOrEqualTo(1e-4);
    try (StepModel model = StepModel.load(r.onnx(), ExecutionConfig.cpu())) {
      assertThat(model.spec().cell()).isEqualTo(io.stepcast.model.CellType.RNN);
      assertThat(model.stateCount()).isEqualTo(1);
      assertThat(model.stateName(0)).isEqualTo("h");
    }
  }

  @Test
  void shouldNameASeriesTooShortToSplitAndItsLength() throws Exception {
    String csv =
        SyntheticHistory.csv(1, 400, 3)
            + SyntheticHistory.csv(1, 30, 4)
                .lines()
                .skip(1)
                .map(l -> l.replace("site-0", "tiny") + "\n")
                .reduce("", String::concat);
    TrainingData short1 = TrainingData.fromCsv(spec, Csv.parse("short.csv", csv));

    assertThatThrownBy(() -> TrainingRun.run(spec, short1, cfg, "v", TrainingListener.NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("series 'tiny'")
        .hasMessageContaining("has 30 events")
        .hasMessageContaining("too short");
  }

  @Test
  void shouldRefuseToTrainOnNoEvents() {
    TrainingData none = TrainingData.fromRecords(spec, "topic empty", java.util.List.of());
    assertThatThrownBy(() -> TrainingRun.run(spec, none, cfg, "v", TrainingListener.NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topic empty: no events to train on");
  }
}
