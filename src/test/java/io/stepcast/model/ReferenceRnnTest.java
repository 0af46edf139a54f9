package io.stepcast.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The reference against numbers worked out by hand for one hidden unit. */
class ReferenceRnnTest {

  private static double sigmoid(double v) {
    return 1 / (1 + Math.exp(-v));
  }

  @Test
  void shouldFollowPyTorchLstmEquationsForOneUnit() {
    // Gate rows i, f, g, o; input weights 0.1..0.4, hidden 0.5..0.8, biases per gate.
    RnnWeights w =
        new RnnWeights(
            CellType.LSTM,
            1,
            1,
            1,
            1,
            new float[][] {{0.1f, 0.2f, 0.3f, 0.4f}},
            new float[][] {{0.5f, 0.6f, 0.7f, 0.8f}},
            new float[][] {{0.01f, 0.02f, 0.03f, 0.04f}},
            new float[][] {{-0.01f, 0.0f, 0.01f, 0.02f}},
            new float[] {2f},
            new float[] {0.5f},
            new float[] {1f},
            new float[] {2f},
            new float[] {10f},
            new float[] {3f});
    float[][] state = {{0.25f}, {-0.5f}};
    double x = (5.0 - 1.0) / 2.0;
    double h = 0.25;
    double i = sigmoid(0.1 * x + 0.01 + 0.5 * h - 0.01);
    double f = sigmoid(0.2 * x + 0.02 + 0.6 * h + 0.0);
    double g = Math.tanh(0.3 * x + 0.03 + 0.7 * h + 0.01);
    double o = sigmoid(0.4 * x + 0.04 + 0.8 * h + 0.02);
    double c = f * -0.5 + i * g;
    double hNext = o * Math.tanh(c);
    double y = (2 * hNext + 0.5) * 3 + 10;

    float[] out = new ReferenceRnn(w).step(new float[] {5f}, state);

    assertThat((double) out[0]).isCloseTo(y, within(1e-5));
    assertThat((double) state[0][0]).isCloseTo(hNext, within(1e-7));
    assertThat((double) state[1][0]).isCloseTo(c, within(1e-7));
  }

  @Test
  void shouldFollowPyTorchGruEquationsForOneUnit() {
    // Gate rows r, z, n.
    RnnWeights w =
        new RnnWeights(
            CellType.GRU,
            1,
            1,
            1,
            1,
            new float[][] {{0.3f, -0.2f, 0.9f}},
            new float[][] {{0.4f, 0.5f, -0.6f}},
            new float[][] {{0.1f, 0.2f, 0.3f}},
            new float[][] {{-0.1f, 0.05f, 0.2f}},
            new float[] {1.5f},
            new float[] {0f},
            new float[] {0f},
            new float[] {1f},
            new float[] {0f},
            new float[] {1f});
    float[][] state = {{0.7f}};
    double x = 0.8;
    double h = 0.7;
    double r = sigmoid(0.3 * x + 0.1 + 0.4 * h - 0.1);
    double z = sigmoid(-0.2 * x + 0.2 + 0.5 * h + 0.05);
    double n = Math.tanh(0.9 * x + 0.3 + r * (-0.6 * h + 0.2));
    double hNext = (1 - z) * n + z * h;

    float[] out = new ReferenceRnn(w).step(new float[] {0.8f}, state);

    assertThat((double) state[0][0]).isCloseTo(hNext, within(1e-7));
    assertThat((double) out[0]).isCloseTo(1.5 * hNext, within(1e-6));
  }

  @Test
  void shouldFollowPyTorchTanhRnnEquationsForTwoUnits() {
    // One block: h' = tanh(W_ih x + b_ih + W_hh h + b_hh), two units, two features.
    RnnWeights w =
        new RnnWeights(
            CellType.RNN,
            2,
            2,
            1,
            1,
            new float[][] {{0.3f, -0.2f, 0.5f, 0.1f}},
            new float[][] {{0.4f, -0.7f, 0.2f, 0.6f}},
            new float[][] {{0.1f, -0.3f}},
            new float[][] {{0.05f, 0.2f}},
            new float[] {1.5f, -0.5f},
            new float[] {0.25f},
            new float[] {1f, 0f},
            new float[] {2f, 1f},
            new float[] {4f},
            new float[] {2f});
    float[][] state = {{0.7f, -0.4f}};
    double x0 = (3.0 - 1.0) / 2.0;
    double x1 = 0.5;
    double h0 = Math.tanh(0.3 * x0 - 0.2 * x1 + 0.1 + 0.4 * 0.7 - 0.7 * -0.4 + 0.05);
    double h1 = Math.tanh(0.5 * x0 + 0.1 * x1 - 0.3 + 0.2 * 0.7 + 0.6 * -0.4 + 0.2);
    double y = (1.5 * h0 - 0.5 * h1 + 0.25) * 2 + 4;

    float[] out = new ReferenceRnn(w).step(new float[] {3f, 0.5f}, state);

    assertThat(state).hasDimensions(1, 2);
    assertThat((double) state[0][0]).isCloseTo(h0, within(1e-7));
    assertThat((double) state[0][1]).isCloseTo(h1, within(1e-7));
    assertThat((double) out[0]).isCloseTo(y, within(1e-5));
  }
}
