package io.stepcast.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The state layout docs/MODEL-CONTRACT.md promises for stepcast's models: one tensor per kind of
 * state ({@code h}, and {@code c} for an LSTM) of {@code [batch, layers * H]}, layer {@code l} in
 * columns {@code l*H .. (l+1)*H - 1}, rows independent. Checked against a one-layer model made of
 * the first layer's weights: its state must be the first {@code H} columns of the two-layer one's.
 */
class StateLayoutContractTest {
  private static final int H = 3;
  private static final int INPUTS = 2;

  @Test
  void shouldKeepLayerZeroInTheFirstHiddenSizeColumnsForEveryCell() throws Exception {
    for (CellType cell : CellType.values()) {
      RnnWeights two = DemoModels.persistenceLikeWeights(cell, INPUTS, H, 2, 1, 17);
      RnnWeights one = firstLayer(two);
      try (StepModel m2 = load(two, 2);
          StepModel m1 = load(one, 1);
          Stepper s2 = m2.newStepper(1);
          Stepper s1 = m1.newStepper(1)) {
        List<String> names = cell == CellType.LSTM ? List.of("h", "c") : List.of("h");
        assertThat(m2.stateCount()).isEqualTo(names.size());
        for (int i = 0; i < names.size(); i++) {
          assertThat(m2.stateName(i)).isEqualTo(names.get(i));
          assertThat(m2.stateSize(i)).as("layers * H").isEqualTo(2 * H);
        }
        float[][] st2 = zero(m2);
        float[][] st1 = zero(m1);
        float[] y = new float[1];
        for (float[] x : new float[][] {{0.5f, -1f}, {2f, 0.25f}, {-0.75f, 1.5f}}) {
          s2.step(x, st2, y);
          s1.step(x, st1, y);
          for (int i = 0; i < names.size(); i++) {
            assertThat(Arrays.copyOfRange(st2[i], 0, H))
                .as("%s: %s of layer 0 is in columns 0..H-1", cell, names.get(i))
                .containsExactly(st1[i]);
            assertThat(Arrays.copyOfRange(st2[i], H, 2 * H))
                .as("%s: layer 1 is in columns H..2H-1 and has moved", cell)
                .isNotEqualTo(new float[H]);
          }
        }
      }
    }
  }

  @Test
  void shouldStepEveryBatchRowOnItsOwn() throws Exception {
    RnnWeights w = DemoModels.persistenceLikeWeights(CellType.LSTM, INPUTS, H, 2, 1, 5);
    try (StepModel m = load(w, 2);
        Stepper batch = m.newStepper(2);
        Stepper single = m.newStepper(1)) {
      float[] x = {0.5f, -1f, 3f, 2f};
      float[][] states = {new float[4 * H], new float[4 * H]};
      Arrays.fill(states[1], 2 * H, 4 * H, 0.3f); // row 1 starts from another c
      float[] y = new float[2];
      batch.stepBatch(2, x, states, y);
      for (int r = 0; r < 2; r++) {
        float[][] own = {new float[2 * H], new float[2 * H]};
        Arrays.fill(own[1], r == 1 ? 0.3f : 0f);
        float[] y1 = new float[1];
        single.step(Arrays.copyOfRange(x, r * INPUTS, (r + 1) * INPUTS), own, y1);
        assertThat(y1[0]).isEqualTo(y[r]);
        assertThat(own[0])
            .containsExactly(Arrays.copyOfRange(states[0], r * 2 * H, (r + 1) * 2 * H));
        assertThat(own[1])
            .containsExactly(Arrays.copyOfRange(states[1], r * 2 * H, (r + 1) * 2 * H));
      }
    }
  }

  private static StepModel load(RnnWeights w, int layers) throws ModelException {
    ModelSpec spec =
        ModelSpec.builder()
            .version("layout-" + w.cell().id() + "-" + layers)
            .pipeline("layout")
            .network(w.cell(), layers, H)
            .features(List.of("a", "b"))
            .target("a", "none")
            .build();
    return StepModel.load(StepModelBuilder.build(w, spec), ExecutionConfig.cpu());
  }

  private static float[][] zero(StepModel m) {
    float[][] s = new float[m.stateCount()][];
    for (int i = 0; i < s.length; i++) {
      s[i] = new float[m.stateSize(i)];
    }
    return s;
  }

  /** The first layer of {@code w} as a one-layer network (the head is never compared). */
  private static RnnWeights firstLayer(RnnWeights w) {
    return new RnnWeights(
        w.cell(),
        w.inputSize(),
        w.hiddenSize(),
        1,
        w.outputSize(),
        new float[][] {w.wIh()[0]},
        new float[][] {w.wHh()[0]},
        new float[][] {w.bIh()[0]},
        new float[][] {w.bHh()[0]},
        w.wOut(),
        w.bOut(),
        w.xMean(),
        w.xStd(),
        w.yMean(),
        w.yStd());
  }
}
