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
 * The promotion gate both ways, with a trained model against a fixed near-persistence model, each
 * scored on the same test events (the new model picked its epoch on the validation part).
 */
class PromotionTest {

  @TempDir static Path dir;

  private static TopologySpec spec;
  private static TrainingData data;
  private static TrainConfig cfg;
  private static TrainingRun.Result trained;
  private static byte[] fixed;
  private static double fixedMae;

  @BeforeAll
  static void setUp() throws Exception {
    spec = SyntheticHistory.spec(dir, Map.of());
    data = TrainingData.fromCsv(spec, Csv.parse("synth.csv", SyntheticHistory.csv(2, 300, 5)));
    cfg = TrainingRun.config(spec, null, 15);
    trained = TrainingRun.run(spec, data, cfg, "synth-trained", TrainingListener.NONE);
    fixed = PipelineModels.fixed(spec, 42);
    try (StepModel m = StepModel.load(fixed, ExecutionConfig.cpu())) {
      fixedMae = TrainingRun.evaluate(m, spec, data, cfg).mae();
    }
  }

  @Test
  void shouldPublishAModelThatBeatsTheLiveOneShowingBothFigures() {
    double newMae = trained.report().gate().mae();
    assertThat(newMae).isLessThan(fixedMae);

    Promotion.Decision d =
        Promotion.decide(
            spec,
            data,
            cfg,
            "synth-trained",
            newMae,
            List.of(new Promotion.Live("dir", fixed)),
            false);

    assertThat(d.publish()).isTrue();
    assertThat(d.live())
        .singleElement()
        .satisfies(
            l -> {
              assertThat(l.version()).isEqualTo("synth-fixed-42");
              assertThat(l.mae()).isEqualTo(fixedMae);
            });
    assertThat(d.reason())
        .startsWith("better:")
        .contains("synth-trained")
        .contains("synth-fixed-42");
  }

  @Test
  void shouldRefuseAModelThatDoesNotBeatTheLiveOneUnlessForced() {
    List<Promotion.Live> live = List.of(new Promotion.Live("topic", trained.onnx()));

    Promotion.Decision refused =
        Promotion.decide(spec, data, cfg, "synth-fixed-42", fixedMae, live, false);
    assertThat(refused.publish()).isFalse();
    assertThat(refused.reason()).startsWith("not better, refused").contains("--force");
    assertThat(refused.live().get(0).mae()).isEqualTo(trained.report().gate().mae());
    assertThat(refused.reason()).contains("on the test part");

    Promotion.Decision forced =
        Promotion.decide(spec, data, cfg, "synth-fixed-42", fixedMae, live, true);
    assertThat(forced.publish()).isTrue();
    assertThat(forced.reason()).startsWith("not better, forced");
  }

  @Test
  void shouldRefuseWhenTheLiveModelCannotBeComparedUnlessForced() {
    List<Promotion.Live> live =
        List.of(new Promotion.Live("dir/broken.onnx", new byte[] {1, 2, 3}));

    assertThat(Promotion.decide(spec, data, cfg, "v", 1.0, live, false).publish()).isFalse();
    assertThat(Promotion.decide(spec, data, cfg, "v", 1.0, live, false).reason())
        .contains("cannot be compared");
    assertThat(Promotion.decide(spec, data, cfg, "v", 1.0, live, true).publish()).isTrue();
  }

  @Test
  void shouldPublishTheFirstModel() {
    assertThat(Promotion.decide(spec, data, cfg, "v", 1.0, List.of(), false).publish()).isTrue();
  }
}
