package io.stepcast.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.stepcast.model.CellType;
import io.stepcast.model.DemoModels;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelException;
import io.stepcast.model.ModelSpec;
import io.stepcast.model.OrtSupport;
import io.stepcast.model.RnnWeights;
import io.stepcast.model.StepModel;
import io.stepcast.model.StepModelBuilder;
import io.stepcast.model.Stepper;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The cost of one ONNX Runtime step call from Java for a small LSTM (H=64, one layer, four
 * features), three ways:
 *
 * <ul>
 *   <li>{@code tensorsPerCall}: the naive way, creating the input tensors, running, copying the
 *       outputs out of the result and closing everything on every call;
 *   <li>{@code stepperBatch1}: a {@link Stepper} with reused direct buffers and pinned outputs, one
 *       series per call;
 *   <li>{@code stepperBatch64}: the same, 64 series per call (per series: divide by 64).
 * </ul>
 *
 * <p>Run: {@code java -cp target/classes:<dependency classpath> org.openjdk.jmh.Main StepBenchmark}
 * (or from the shaded jar). ONNX Runtime uses one intra-op thread, as in serving.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
public class StepBenchmark {

  static final int FEATURES = 4;
  static final int HIDDEN = 64;
  static final int BATCH = 64;

  private StepModel model;
  private Stepper single;
  private Stepper batched;
  private OrtSupport.OpenSession raw;
  private OrtEnvironment env;

  private float[] x;
  private float[][] state;
  private float[] y;
  private float[] xBatch;
  private float[][] stateBatch;
  private float[] yBatch;
  private final long[] shapeX = {1, FEATURES};
  private final long[] shapeState = {1, HIDDEN};

  /** Builds a seeded demo LSTM and opens it twice: as a {@link StepModel} and as a raw session. */
  @Setup(Level.Trial)
  public void setUp() throws ModelException {
    RnnWeights w = DemoModels.persistenceLikeWeights(CellType.LSTM, FEATURES, HIDDEN, 1, 1, 42L);
    ModelSpec spec =
        ModelSpec.builder()
            .version("bench")
            .pipeline("bench")
            .network(CellType.LSTM, 1, HIDDEN)
            .features(List.of("a", "b", "c", "d"))
            .target("a", "difference")
            .build();
    byte[] bytes = StepModelBuilder.build(w, spec);
    model = StepModel.load(bytes, ExecutionConfig.cpu());
    single = model.newStepper(1);
    batched = model.newStepper(BATCH);
    raw = OrtSupport.open(bytes, ExecutionConfig.cpu());
    env = OrtSupport.environment();

    Random r = new Random(1);
    x = new float[FEATURES];
    for (int j = 0; j < FEATURES; j++) {
      x[j] = (float) r.nextGaussian();
    }
    state = new float[][] {new float[HIDDEN], new float[HIDDEN]};
    y = new float[1];
    xBatch = new float[BATCH * FEATURES];
    for (int i = 0; i < xBatch.length; i++) {
      xBatch[i] = (float) r.nextGaussian();
    }
    stateBatch = new float[][] {new float[BATCH * HIDDEN], new float[BATCH * HIDDEN]};
    yBatch = new float[BATCH];
  }

  /** Closes the steppers, the raw session and the model, in that order. */
  @TearDown(Level.Trial)
  public void tearDown() throws OrtException {
    single.close();
    batched.close();
    raw.close();
    model.close();
  }

  /** Tensors created, run, outputs copied out and everything closed, per call. */
  @Benchmark
  public void tensorsPerCall(Blackhole bh) throws OrtException {
    try (OnnxTensor tx = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shapeX);
        OnnxTensor th = OnnxTensor.createTensor(env, FloatBuffer.wrap(state[0]), shapeState);
        OnnxTensor tc = OnnxTensor.createTensor(env, FloatBuffer.wrap(state[1]), shapeState);
        OrtSession.Result result = raw.session().run(Map.of("x", tx, "h", th, "c", tc))) {
      ((OnnxTensor) result.get("y").orElseThrow()).getFloatBuffer().get(y);
      ((OnnxTensor) result.get("h_next").orElseThrow()).getFloatBuffer().get(state[0]);
      ((OnnxTensor) result.get("c_next").orElseThrow()).getFloatBuffer().get(state[1]);
    }
    bh.consume(y);
  }

  /** A {@link Stepper} with reused buffers and pinned outputs, one series. */
  @Benchmark
  public void stepperBatch1(Blackhole bh) throws ModelException {
    single.step(x, state, y);
    bh.consume(y);
  }

  /** A {@link Stepper} with reused buffers and pinned outputs, 64 series in one call. */
  @Benchmark
  public void stepperBatch64(Blackhole bh) throws ModelException {
    batched.stepBatch(BATCH, xBatch, stateBatch, yBatch);
    bh.consume(yBatch);
  }
}
