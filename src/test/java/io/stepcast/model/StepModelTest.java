package io.stepcast.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OrtProvider;
import io.stepcast.model.ModelSpec.GoldenVectors;
import io.stepcast.model.onnx.OnnxProto.GraphProto;
import io.stepcast.model.onnx.OnnxProto.ModelProto;
import io.stepcast.model.onnx.OnnxProto.NodeProto;
import io.stepcast.model.onnx.OnnxProto.StringStringEntryProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class StepModelTest {

  private static final double TOLERANCE = 1e-5;

  static Stream<Arguments> networks() {
    return Stream.of(
        Arguments.of(CellType.LSTM, 1),
        Arguments.of(CellType.LSTM, 2),
        Arguments.of(CellType.GRU, 1),
        Arguments.of(CellType.GRU, 2),
        Arguments.of(CellType.RNN, 1),
        Arguments.of(CellType.RNN, 2));
  }

  @Test
  void shouldLoadWhatTheBuilderWrites() throws Exception {
    RnnWeights w = TestWeights.random(CellType.LSTM, 3, 8, 2, 1);
    ModelSpec spec = TestWeights.spec(w, "42");

    byte[] bytes = StepModelBuilder.build(w, spec);

    ModelProto proto = ModelProto.parseFrom(bytes);
    assertThat(proto.getProducerName()).isEqualTo("stepcast");
    assertThat(proto.getModelVersion()).isEqualTo(42L);
    assertThat(proto.getOpsetImport(0).getVersion()).isEqualTo(StepModelBuilder.OPSET);
    try (StepModel model = StepModel.load(bytes, ExecutionConfig.cpu())) {
      assertThat(model.provider()).isEqualTo(ExecutionProvider.CPU);
      assertThat(model.version()).isEqualTo("42");
      assertThat(model.spec().toBuilder().golden(null).build()).isEqualTo(spec);
      assertThat(model.spec().golden().steps()).isEqualTo(StepModelBuilder.DEFAULT_GOLDEN_STEPS);
      assertThat(model.inputSize()).isEqualTo(3);
      assertThat(model.outputSize()).isEqualTo(2);
      assertThat(model.stateCount()).isEqualTo(2);
      assertThat(List.of(model.stateName(0), model.stateName(1))).containsExactly("h", "c");
      assertThat(model.stateSize(0)).isEqualTo(16);
      assertThat(model.stateSize(1)).isEqualTo(16);
    }
  }

  @Test
  void shouldLoadFromFile(@TempDir Path dir) throws Exception {
    RnnWeights w = TestWeights.random(CellType.GRU, 2, 4, 1, 2);
    Path file = dir.resolve("m.onnx");
    Files.write(file, StepModelBuilder.build(w, TestWeights.spec(w, "file-1")));

    try (StepModel model = StepModel.load(file, ExecutionConfig.cpu())) {
      assertThat(model.version()).isEqualTo("file-1");
      assertThat(model.stateCount()).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "{0} with {1} layer(s)")
  @MethodSource("networks")
  void shouldMatchReferenceStepFromArbitraryState(CellType cell, int layers) throws Exception {
    RnnWeights w = TestWeights.random(cell, 4, 12, layers, 100 + layers);
    ReferenceRnn reference = new ReferenceRnn(w);
    Random r = new Random(7);
    try (StepModel model =
            StepModel.load(
                StepModelBuilder.build(w, TestWeights.spec(w, "v1")), ExecutionConfig.cpu());
        Stepper stepper = model.newStepper(1)) {
      for (int trial = 0; trial < 5; trial++) {
        float[][] refState = reference.zeroState();
        for (float[] s : refState) {
          float[] v = TestWeights.uniform(r, s.length, -1f, 1f);
          System.arraycopy(v, 0, s, 0, s.length);
        }
        float[][] onnxState = copy(refState);
        float[] x = TestWeights.inputs(w, 1, trial)[0];
        float[] y = new float[w.outputSize()];

        float[] expected = reference.step(x, refState);
        stepper.step(x, onnxState, y);

        assertClose(y, expected, "y");
        for (int i = 0; i < refState.length; i++) {
          assertClose(onnxState[i], refState[i], model.stateName(i) + "_next");
        }
      }
    }
  }

  @ParameterizedTest(name = "{0} with {1} layer(s)")
  @MethodSource("networks")
  void shouldEqualWholeSequenceReferenceWhenSteppedEventByEvent(CellType cell, int layers)
      throws Exception {
    RnnWeights w = TestWeights.random(cell, 3, 10, layers, 200 + layers);
    float[][] xs = TestWeights.inputs(w, 50, 9);
    float[][] expected = new ReferenceRnn(w).run(xs);

    try (StepModel model =
            StepModel.load(
                StepModelBuilder.build(w, TestWeights.spec(w, "seq")), ExecutionConfig.cpu());
        Stepper stepper = model.newStepper(4)) {
      float[][] state = new float[model.stateCount()][];
      for (int i = 0; i < state.length; i++) {
        state[i] = new float[model.stateSize(i)];
      }
      float[] y = new float[model.outputSize()];
      for (int t = 0; t < xs.length; t++) {
        // What the topology does: the state lives in Java arrays between events.
        float[][] stored = copy(state);
        stepper.step(xs[t], stored, y);
        state = stored;
        assertClose(y, expected[t], "y at step " + t);
      }
    }
  }

  @ParameterizedTest(name = "{0} with {1} layer(s)")
  @MethodSource("networks")
  void shouldGiveTheSameForABatchOfSevenAsForSevenSingleCalls(CellType cell, int layers)
      throws Exception {
    RnnWeights w = TestWeights.random(cell, 4, 8, layers, 300 + layers);
    int n = 7;
    Random r = new Random(11);
    try (StepModel model =
            StepModel.load(
                StepModelBuilder.build(w, TestWeights.spec(w, "b")), ExecutionConfig.cpu());
        Stepper stepper = model.newStepper(16)) {
      int f = model.inputSize();
      int o = model.outputSize();
      float[] x = new float[n * f];
      float[][] batchState = new float[model.stateCount()][];
      for (int i = 0; i < batchState.length; i++) {
        batchState[i] = TestWeights.uniform(r, n * model.stateSize(i), -1f, 1f);
      }
      float[][] xs = TestWeights.inputs(w, n, 5);
      for (int s = 0; s < n; s++) {
        System.arraycopy(xs[s], 0, x, s * f, f);
      }
      float[][] singleStates = new float[n][];
      float[][][] perSeries = new float[n][model.stateCount()][];
      for (int s = 0; s < n; s++) {
        for (int i = 0; i < model.stateCount(); i++) {
          int size = model.stateSize(i);
          perSeries[s][i] = new float[size];
          System.arraycopy(batchState[i], s * size, perSeries[s][i], 0, size);
        }
      }
      float[] yBatch = new float[n * o];

      stepper.stepBatch(n, x, batchState, yBatch);

      for (int s = 0; s < n; s++) {
        float[] y = new float[o];
        stepper.step(xs[s], perSeries[s], y);
        for (int k = 0; k < o; k++) {
          assertThat(yBatch[s * o + k]).as("y of series %d", s).isCloseTo(y[k], within(1e-6f));
        }
        for (int i = 0; i < model.stateCount(); i++) {
          int size = model.stateSize(i);
          for (int k = 0; k < size; k++) {
            assertThat(batchState[i][s * size + k])
                .as("state %s of series %d", model.stateName(i), s)
                .isCloseTo(perSeries[s][i][k], within(1e-6f));
          }
        }
        singleStates[s] = y;
      }
      assertThat(singleStates[0]).isNotEqualTo(singleStates[1]);
    }
  }

  @Test
  void shouldReuseTensorsAcrossBatchSizesAndCalls() throws Exception {
    RnnWeights w = TestWeights.random(CellType.LSTM, 2, 6, 1, 12);
    ReferenceRnn reference = new ReferenceRnn(w);
    try (StepModel model =
            StepModel.load(
                StepModelBuilder.build(w, TestWeights.spec(w, "r")), ExecutionConfig.cpu());
        Stepper stepper = model.newStepper(3)) {
      float[][] xs = TestWeights.inputs(w, 3, 3);
      // Arrays sized for the largest batch are accepted for smaller ones.
      float[] x = new float[3 * 2];
      float[][] state = {new float[3 * 6], new float[3 * 6]};
      float[] y = new float[3 * 2];
      float[][][] refStates = {reference.zeroState(), reference.zeroState(), reference.zeroState()};
      for (int round = 0; round < 3; round++) {
        int n = round == 1 ? 1 : 3;
        for (int s = 0; s < n; s++) {
          System.arraycopy(xs[(s + round) % 3], 0, x, s * 2, 2);
        }
        stepper.stepBatch(n, x, state, y);
        for (int s = 0; s < n; s++) {
          float[] expected = reference.step(xs[(s + round) % 3], refStates[s]);
          assertClose(new float[] {y[s * 2], y[s * 2 + 1]}, expected, "round " + round);
        }
      }
    }
  }

  @Test
  void shouldRejectArraysThatAreTooShortOrBatchTooLarge() throws Exception {
    RnnWeights w = TestWeights.random(CellType.GRU, 3, 4, 1, 13);
    try (StepModel model =
            StepModel.load(
                StepModelBuilder.build(w, TestWeights.spec(w, "v")), ExecutionConfig.cpu());
        Stepper stepper = model.newStepper(2)) {
      float[][] state = {new float[4]};
      assertThatThrownBy(() -> stepper.step(new float[2], state, new float[2]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("x has 2 values");
      assertThatThrownBy(() -> stepper.step(new float[3], new float[][] {}, new float[2]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("state arrays");
      assertThatThrownBy(
              () -> stepper.stepBatch(3, new float[9], new float[][] {new float[12]}, new float[6]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("batch size 3");
      assertThatThrownBy(
              () -> stepper.stepBatch(2, new float[6], new float[][] {new float[4]}, new float[4]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("h has 4 values");
    }
  }

  @Test
  void shouldCloseOpenSteppersWithTheModel() throws Exception {
    RnnWeights w = TestWeights.random(CellType.GRU, 1, 4, 1, 14);
    StepModel model =
        StepModel.load(StepModelBuilder.build(w, TestWeights.spec(w, "c")), ExecutionConfig.cpu());
    Stepper stepper = model.newStepper(1);
    stepper.step(new float[1], new float[][] {new float[4]}, new float[2]);

    model.close();

    assertThatThrownBy(() -> stepper.step(new float[1], new float[][] {new float[4]}, new float[2]))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> model.newStepper(1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void shouldRefuseModelWhoseGoldenOutputsWereTampered() throws Exception {
    RnnWeights w = TestWeights.random(CellType.LSTM, 3, 8, 1, 21);
    ModelProto proto = StepModelBuilder.buildProto(w, TestWeights.spec(w, "t"));
    ModelSpec spec = ModelSpec.fromJson(proto.getMetadataProps(0).getValue());
    float[][] y = spec.golden().y().clone();
    y[2] = y[2].clone();
    y[2][1] += 0.01f;
    ModelSpec tampered = spec.withGolden(new GoldenVectors(spec.golden().x(), y));
    byte[] bytes =
        proto.toBuilder()
            .setMetadataProps(
                0,
                StringStringEntryProto.newBuilder()
                    .setKey(ModelSpec.METADATA_KEY)
                    .setValue(tampered.toJson()))
            .build()
            .toByteArray();

    assertThatThrownBy(() -> StepModel.load(bytes, ExecutionConfig.cpu()))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("golden vector mismatch at step 2, output 1")
        .hasMessageContaining("expected " + y[2][1]);
  }

  @Test
  void shouldRefuseModelWithoutSpec() throws Exception {
    RnnWeights w = TestWeights.random(CellType.GRU, 2, 4, 1, 22);
    byte[] bytes =
        StepModelBuilder.buildProto(w, TestWeights.spec(w, "s")).toBuilder()
            .clearMetadataProps()
            .build()
            .toByteArray();

    assertThatThrownBy(() -> StepModel.load(bytes, ExecutionConfig.cpu()))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("no '" + ModelSpec.METADATA_KEY + "'");
  }

  @Test
  void shouldRefuseModelWithInvalidSpec() throws Exception {
    RnnWeights w = TestWeights.random(CellType.GRU, 2, 4, 1, 22);
    byte[] bytes =
        StepModelBuilder.buildProto(w, TestWeights.spec(w, "s")).toBuilder()
            .setMetadataProps(
                0,
                StringStringEntryProto.newBuilder()
                    .setKey(ModelSpec.METADATA_KEY)
                    .setValue("{\"specVersion\":1,\"version\":\"s\",\"pipeline\":\"p\"}"))
            .build()
            .toByteArray();

    assertThatThrownBy(() -> StepModel.load(bytes, ExecutionConfig.cpu()))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("not a valid spec")
        .hasMessageContaining("cell");
  }

  @Test
  void shouldRefuseModelWithWrongInputName() throws Exception {
    RnnWeights w = TestWeights.random(CellType.LSTM, 2, 4, 1, 23);
    ModelProto proto = StepModelBuilder.buildProto(w, TestWeights.spec(w, "n"));
    GraphProto.Builder graph = proto.getGraph().toBuilder();
    graph.setInput(0, graph.getInput(0).toBuilder().setName("features"));
    for (NodeProto.Builder node : graph.getNodeBuilderList()) {
      for (int i = 0; i < node.getInputCount(); i++) {
        if (node.getInput(i).equals("x")) {
          node.setInput(i, "features");
        }
      }
    }
    byte[] bytes = proto.toBuilder().setGraph(graph).build().toByteArray();

    assertThatThrownBy(() -> StepModel.load(bytes, ExecutionConfig.cpu()))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("model inputs are [features, h, c]")
        .hasMessageContaining("[x, h, c]");
  }

  @Test
  void shouldRefuseBytesThatAreNotAnOnnxModel() {
    assertThatThrownBy(() -> StepModel.load(new byte[] {1, 2, 3, 4}, ExecutionConfig.cpu()))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("ONNX Runtime cannot load the model");
  }

  @Test
  void shouldFallBackToCpuWhenCudaIsUnavailableAndFallbackAllowed() throws Exception {
    Assumptions.assumeFalse(OrtSupport.availableProviders().contains(OrtProvider.CUDA));
    RnnWeights w = TestWeights.random(CellType.GRU, 2, 4, 1, 24);

    try (StepModel model =
        StepModel.load(
            StepModelBuilder.build(w, TestWeights.spec(w, "g")), ExecutionConfig.cuda(0, true))) {
      assertThat(model.provider()).isEqualTo(ExecutionProvider.CPU);
    }
  }

  @Test
  void shouldRefuseCudaWhenUnavailableAndNoFallback() {
    Assumptions.assumeFalse(OrtSupport.availableProviders().contains(OrtProvider.CUDA));
    RnnWeights w = TestWeights.random(CellType.GRU, 2, 4, 1, 24);
    byte[] bytes = StepModelBuilder.build(w, TestWeights.spec(w, "g"));

    assertThatThrownBy(() -> StepModel.load(bytes, ExecutionConfig.cuda(0, false)))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("CUDA")
        .hasMessageContaining("-Pcuda")
        .hasMessageContaining("fallbackToCpu");
  }

  @Test
  void shouldKeepGoldenOutputsGivenByTheTrainer() throws Exception {
    RnnWeights w = TestWeights.random(CellType.LSTM, 2, 4, 1, 25);
    float[][] x = TestWeights.inputs(w, 3, 1);
    float[][] y = new ReferenceRnn(w).run(x);
    ModelSpec spec = TestWeights.spec(w, "k").withGolden(new GoldenVectors(x, y));

    try (StepModel model = StepModel.load(StepModelBuilder.build(w, spec), ExecutionConfig.cpu())) {
      assertThat(model.spec().golden()).isEqualTo(new GoldenVectors(x, y));
    }
  }

  @Test
  void shouldComputeGoldenOutputsForGivenInputs() throws Exception {
    RnnWeights w = TestWeights.random(CellType.GRU, 2, 4, 2, 26);
    float[][] x = TestWeights.inputs(w, 5, 2);

    try (StepModel model =
        StepModel.load(
            StepModelBuilder.build(w, TestWeights.spec(w, "k"), x), ExecutionConfig.cpu())) {
      assertThat(model.spec().golden().x()).isEqualTo(x);
      assertThat(model.spec().golden().y()).isEqualTo(new ReferenceRnn(w).run(x));
    }
  }

  @Test
  void shouldRefuseToBuildWhenSpecDoesNotDescribeTheWeights() {
    RnnWeights w = TestWeights.random(CellType.LSTM, 2, 4, 1, 27);
    ModelSpec spec = TestWeights.spec(w, "m").toBuilder().network(CellType.LSTM, 1, 5).build();

    assertThatThrownBy(() -> StepModelBuilder.build(w, spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hiddenSize 5 vs weights 4");
  }

  @Test
  void shouldBuildDemoModelThatForecastsCloseToPersistence() throws Exception {
    ModelSpec base =
        ModelSpec.builder()
            .version("demo-1")
            .pipeline("stocks")
            .network(CellType.LSTM, 1, 1)
            .features(List.of("close", "volume"))
            .target("close", "difference")
            .build();

    byte[] bytes = DemoModels.persistenceLike(CellType.GRU, 2, 16, 2, 7L, base);

    try (StepModel model = StepModel.load(bytes, ExecutionConfig.cpu());
        Stepper stepper = model.newStepper(1)) {
      assertThat(model.spec().cell()).isEqualTo(CellType.GRU);
      assertThat(model.spec().features()).containsExactly("close", "volume");
      float[][] state = {new float[32]};
      float[] y = new float[1];
      for (int t = 0; t < 20; t++) {
        stepper.step(new float[] {100f + t, 5000f}, state, y);
        assertThat(Math.abs(y[0])).isLessThan(0.05f);
      }
      assertThat(state[0]).isNotEqualTo(new float[32]);
    }
  }

  private static float[][] copy(float[][] a) {
    float[][] c = new float[a.length][];
    for (int i = 0; i < a.length; i++) {
      c[i] = a[i].clone();
    }
    return c;
  }

  private static void assertClose(float[] actual, float[] expected, String what) {
    assertThat(actual).as(what).hasSameSizeAs(expected);
    for (int k = 0; k < expected.length; k++) {
      assertThat((double) actual[k])
          .as("%s[%d]", what, k)
          .isCloseTo(expected[k], within(TOLERANCE));
    }
  }
}
