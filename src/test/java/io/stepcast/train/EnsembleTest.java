package io.stepcast.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.model.CellType;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.RnnWeights;
import io.stepcast.model.StepModel;
import io.stepcast.model.StepModelBuilder;
import io.stepcast.model.TestWeights;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** An averaged ensemble is one wider network that forecasts exactly its members' mean. */
class EnsembleTest {

  @ParameterizedTest(name = "{0} x{1}, {2} members")
  @CsvSource({"LSTM, 1, 3", "LSTM, 2, 2", "GRU, 1, 4", "GRU, 2, 3", "RNN, 1, 2", "RNN, 3, 3"})
  void shouldForecastTheMeanOfItsMembersInTheTrainerAndInOnnxRuntime(
      CellType cell, int layers, int size) throws Exception {
    List<RnnWeights> members = members(cell, layers, size);
    float[][] x = TestWeights.inputs(members.get(0), 60, 5);
    float[][] mean = new float[x.length][members.get(0).outputSize()];
    for (RnnWeights m : members) {
      float[][] y = RnnTrainer.forward(m, x);
      for (int t = 0; t < x.length; t++) {
        for (int j = 0; j < y[t].length; j++) {
          mean[t][j] += y[t][j] / size;
        }
      }
    }

    RnnWeights merged = Ensemble.average(members);

    assertThat(merged.hiddenSize()).isEqualTo(size * members.get(0).hiddenSize());
    assertThat(merged.layers()).isEqualTo(layers);
    assertThat(RnnTrainerTest.maxAbsDiff(RnnTrainer.forward(merged, x), mean)).isLessThan(2e-5);
    byte[] onnx = StepModelBuilder.build(merged, TestWeights.spec(merged, "7"));
    try (StepModel model = StepModel.load(onnx, ExecutionConfig.cpu())) {
      assertThat(RnnTrainerTest.maxAbsDiff(ServingReplay.outputs(model, x), mean)).isLessThan(2e-5);
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"LSTM", "GRU"})
  void shouldReturnALoneMemberUnchanged(CellType cell) {
    List<RnnWeights> one = members(cell, 1, 1);

    assertThat(Ensemble.average(one)).isSameAs(one.get(0));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"LSTM", "RNN"})
  void shouldRefuseMembersOfAnotherShapeOrScaling(CellType cell) {
    List<RnnWeights> sameShape = members(cell, 1, 2);
    RnnWeights otherScaling = TestWeights.random(cell, 3, 6, 1, 99);
    RnnWeights wider = TestWeights.random(cell, 3, 7, 1, 98);

    assertThatThrownBy(() -> Ensemble.average(List.of(sameShape.get(0), otherScaling)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("differ");
    assertThatThrownBy(() -> Ensemble.average(List.of(sameShape.get(0), wider)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** {@code size} random networks of 6 units that share the first one's scaling. */
  private static List<RnnWeights> members(CellType cell, int layers, int size) {
    List<RnnWeights> out = new ArrayList<>();
    RnnWeights first = TestWeights.random(cell, 3, 6, layers, 11);
    out.add(first);
    for (int m = 1; m < size; m++) {
      RnnWeights w = TestWeights.random(cell, 3, 6, layers, 11 + m);
      out.add(
          new RnnWeights(
              cell,
              w.inputSize(),
              w.hiddenSize(),
              layers,
              w.outputSize(),
              w.wIh(),
              w.wHh(),
              w.bIh(),
              w.bHh(),
              w.wOut(),
              w.bOut(),
              first.xMean(),
              first.xStd(),
              first.yMean(),
              first.yStd()));
    }
    return out;
  }
}
