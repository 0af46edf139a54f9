package io.stepcast.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.config.ConfigException;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.Csv;
import io.stepcast.model.CellType;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training settings of the spec, and what a run checks before it trains (no training here). */
class TrainingSettingsTest {

  @TempDir Path dir;

  /** Daily rows at midnight: hour_of_day cannot vary. */
  private static String daily(int days) {
    StringBuilder sb = new StringBuilder("site,time,load,level\n");
    LocalDate d = LocalDate.of(2020, 1, 1);
    for (int i = 0; i < days; i++) {
      sb.append(
          String.format(
              Locale.ROOT,
              "a,%sT00:00:00,%.3f,%.3f%n",
              d.plusDays(i),
              1 + 0.1 * Math.sin(i),
              20 + 5 * Math.sin(2 * Math.PI * i / 365.0) + 0.3 * Math.cos(7.1 * i)));
    }
    return sb.toString();
  }

  @Test
  void shouldWarnInOneLineWhenAFeatureIsConstantOverTheTrainingData() throws Exception {
    TopologySpec spec = SyntheticHistory.spec(dir, Map.of());
    TrainingData data = TrainingData.fromCsv(spec, Csv.parse("daily.csv", daily(300)));
    TrainConfig cfg = TrainingRun.config(spec, null, null);

    List<String> warnings = TrainingRun.warnings(new FeaturePipeline(spec), data, cfg);

    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0))
        .startsWith("warning: feature 'hour_of_day' is constant over the training data")
        .contains("hour_of_day:sin = 0")
        .contains("hour_of_day:cos = 1")
        .contains("remove it")
        .doesNotContain("\n");
    TrainingData hourly =
        TrainingData.fromCsv(spec, Csv.parse("hourly.csv", SyntheticHistory.csv(1, 300, 2)));
    assertThat(TrainingRun.warnings(new FeaturePipeline(spec), hourly, cfg)).isEmpty();
  }

  @Test
  void shouldTakeTheArOrderFromTheSpecOrChooseItByAic() throws Exception {
    TopologySpec fixed = SyntheticHistory.spec(dir, Map.of("STEPCAST_TRAINING_AR_ORDER", "14"));
    TopologySpec chosen = SyntheticHistory.spec(dir, Map.of());
    TrainingData data =
        TrainingData.fromCsv(chosen, Csv.parse("h.csv", SyntheticHistory.csv(2, 400, 3)));

    BaselineScoring byspec =
        new BaselineScoring(
            fixed, TrainingRun.config(fixed, null, null), new FeaturePipeline(fixed), data);
    BaselineScoring byAic =
        new BaselineScoring(
            chosen, TrainingRun.config(chosen, null, null), new FeaturePipeline(chosen), data);

    assertThat(byspec.arOrder()).isEqualTo(14);
    assertThat(byspec.arOrderChosenBy()).isEqualTo("spec");
    // 279 training rows per series: orders 1 to 27 are tried.
    assertThat(byAic.arOrderChosenBy()).isEqualTo("aic (orders 1-27)");
    assertThat(byAic.arOrder()).isBetween(1, 27);
    assertThat(byAic.arFittedEverywhere()).isTrue();
  }

  @Test
  void shouldReadTheNewTrainingSettingsAndRefuseBadOnesNamingTheField() throws Exception {
    TopologySpec spec =
        SyntheticHistory.spec(
            dir,
            Map.of("STEPCAST_TRAINING_CELL", "rnn", "STEPCAST_TRAINING_TEST_FRACTION", "0.15"));
    TrainConfig cfg = TrainingRun.config(spec, null, null);
    assertThat(cfg.cell()).isEqualTo(CellType.RNN);
    assertThat(cfg.testFraction()).isEqualTo(0.15);
    assertThat(SyntheticHistory.spec(dir, Map.of()).training().testFraction()).isEqualTo(0.1);
    assertThat(SyntheticHistory.spec(dir, Map.of()).training().arOrder()).isNull();

    assertThatThrownBy(() -> SyntheticHistory.spec(dir, Map.of("STEPCAST_TRAINING_AR_ORDER", "0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("training.arOrder");
    assertThatThrownBy(
            () -> SyntheticHistory.spec(dir, Map.of("STEPCAST_TRAINING_TEST_FRACTION", "0.75")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("training.testFraction");
    assertThatThrownBy(() -> SyntheticHistory.spec(dir, Map.of("STEPCAST_TRAINING_CELL", "elman")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("one of lstm, gru, rnn");
  }
}
