package io.stepcast.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SequenceModelBuilderTest {

  static Stream<Arguments> networks() {
    return Stream.of(
        Arguments.of(CellType.LSTM, 1, 1),
        Arguments.of(CellType.LSTM, 2, 16),
        Arguments.of(CellType.GRU, 1, 5),
        Arguments.of(CellType.GRU, 2, 16));
  }

  /**
   * Two series side by side (batch 2) with different windows: each output must be what the plain
   * Java reference gives after stepping that series' window from a zero state.
   */
  @ParameterizedTest(name = "{0} x{1} layers, W={2}")
  @MethodSource("networks")
  void shouldGiveTheReferenceOutputAfterTheWholeWindowFromZeroState(
      CellType cell, int layers, int window) throws Exception {
    RnnWeights w = TestWeights.random(cell, 3, 8, layers, 7);
    byte[] bytes = SequenceModelBuilder.build(w, TestWeights.spec(w, "seq"));
    Random r = new Random(3);
    float[][][] xs = new float[2][window][3];
    float[] flat = new float[window * 2 * 3];
    for (int t = 0; t < window; t++) {
      for (int b = 0; b < 2; b++) {
        for (int j = 0; j < 3; j++) {
          xs[b][t][j] = (float) (w.xMean()[j] + w.xStd()[j] * 2 * r.nextGaussian());
          flat[(t * 2 + b) * 3 + j] = xs[b][t][j];
        }
      }
    }

    float[] y = new float[2 * w.outputSize()];
    try (OrtSupport.OpenSession s = OrtSupport.open(bytes, ExecutionConfig.cpu());
        OnnxTensor x =
            OnnxTensor.createTensor(
                OrtSupport.environment(), FloatBuffer.wrap(flat), new long[] {window, 2, 3});
        OrtSession.Result result = s.session().run(Map.of("x", x))) {
      assertThat(s.session().getOutputNames()).containsExactly("y");
      ((OnnxTensor) result.get("y").orElseThrow()).getFloatBuffer().get(y);
    }

    ReferenceRnn reference = new ReferenceRnn(w);
    for (int b = 0; b < 2; b++) {
      float[][] expected = reference.run(xs[b]);
      for (int k = 0; k < w.outputSize(); k++) {
        assertThat(y[b * w.outputSize() + k])
            .as("series %d output %d", b, k)
            .isCloseTo(expected[window - 1][k], within(1e-4f));
      }
    }
  }
}
