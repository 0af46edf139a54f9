package io.stepcast.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.Csv;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.StepModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training one model for two targets at three horizons on synthetic history: labels past a series'
 * end are masked, every output is scored against persistence, and the exported model passes both
 * parity checks for every output.
 */
class TrainingHorizonsTest {

  @TempDir static Path dir;

  private static TrainingRun.Result result;
  private static TrainingData data;

  @BeforeAll
  static void train() throws Exception {
    TopologySpec spec =
        SyntheticHistory.spec(
            dir,
            Map.of(
                "STEPCAST_FEATURES", "[{calendar: hour_of_day}]",
                "STEPCAST_TARGET_ALSO", "[{field: load, transform: difference}]",
                "STEPCAST_TARGET_HORIZONS", "[1, 6, 24]",
                "STEPCAST_TRAINING_MAX_EPOCHS", "12"));
    data = TrainingData.fromCsv(spec, Csv.parse("synth.csv", SyntheticHistory.csv(3, 480, 11)));
    result =
        TrainingRun.run(
            spec,
            data,
            TrainingRun.config(spec, null, null),
            "synth-horizons-1",
            TrainingListener.NONE);
  }

  @Test
  void shouldReportEveryTargetAndHorizonAgainstPersistence() {
    TrainingReport r = result.report();
    List<TrainingReport.HorizonScores> h = r.horizons();
    assertThat(h)
        .extracting(s -> s.target() + "@" + s.horizon())
        .containsExactly("level@1", "level@6", "level@24", "load@1", "load@6", "load@24");
    for (TrainingReport.HorizonScores s : h) {
      assertThat(s.validation().model().count())
          .isEqualTo(s.validation().persistence().count())
          .isPositive();
      assertThat(s.test().model().count()).isPositive();
    }
    // Forecasts made in the last 23 test events of a series have no 24-hour label yet.
    assertThat(h.get(2).test().model().count()).isLessThan(h.get(0).test().model().count());
    // A daily cycle: six hours ahead persistence is far off; the model knows the hour.
    assertThat(h.get(1).test().model().mae()).isLessThan(0.5 * h.get(1).test().persistence().mae());
    assertThat(h.get(1).validation().model().mae())
        .isLessThan(0.5 * h.get(1).validation().persistence().mae());
    // The next-event figures are those of the first output.
    assertThat(h.get(0).validation().model().mae())
        .isCloseTo(
            r.overall().validation().model().mae(), org.assertj.core.api.Assertions.within(1e-12));
    assertThat(h.get(0).validation().model().count())
        .isEqualTo(r.overall().validation().model().count());
    assertThat(r.figures()).containsKeys("val_mae_level@6", "test_persistence_mae_load@24");
    assertThat(r.toHorizonTable(true)).contains("level", "load", "24");
  }

  @Test
  void shouldExportAModelOfSixNamedOutputsThatPassedParity() throws Exception {
    assertThat(result.report().parity().relativeDifference())
        .isLessThanOrEqualTo(TrainingRun.SERVING_TOLERANCE);
    try (StepModel m = StepModel.load(result.onnx(), ExecutionConfig.cpu())) {
      assertThat(m.outputSize()).isEqualTo(6);
      assertThat(m.spec().outputs())
          .containsExactly("level@1", "level@6", "level@24", "load@1", "load@6", "load@24");
      assertThat(m.spec().features())
          .containsExactly("level", "load:difference", "hour_of_day:sin", "hour_of_day:cos");
    }
  }
}
