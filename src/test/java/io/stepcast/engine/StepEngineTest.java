package io.stepcast.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.Rejection;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.StepModel;
import io.stepcast.state.ModelId;
import io.stepcast.state.SeriesState;
import io.stepcast.train.PipelineModels;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StepEngineTest {
  private static final long HOUR = 3_600_000L;
  private static final long T0 = 1262307600000L;

  private final TopologySpec spec = SpecFixtures.weather();
  private StepModel one;
  private StepModel two;

  @BeforeEach
  void load() throws Exception {
    one = StepModel.load(PipelineModels.fixed(spec, 1), ExecutionConfig.cpu());
    two = StepModel.load(PipelineModels.fixed(spec, 2), ExecutionConfig.cpu());
  }

  @AfterEach
  void close() {
    two.close();
    one.close();
  }

  private static Event event(String id, int hour, double temperature) {
    return Event.of(id, T0 + hour * HOUR, temperature, 1016.5, 3.5 + hour / 10.0);
  }

  /** Recent inputs in memory: the last {@code capacity} rows per series. */
  static final class MemoryRecentInputs implements RecentInputs {
    private final int capacity;
    private final Map<String, ArrayDeque<float[]>> rows = new HashMap<>();

    MemoryRecentInputs(int capacity) {
      this.capacity = capacity;
    }

    @Override
    public int read(String series, SeriesState state, float[] out, int width, int max) {
      ArrayDeque<float[]> q = rows.getOrDefault(series, new ArrayDeque<>());
      int n = Math.min(max, q.size());
      int i = 0;
      int skip = q.size() - n;
      for (float[] r : q) {
        if (skip-- > 0) {
          continue;
        }
        System.arraycopy(r, 0, out, i++ * width, width);
      }
      return n;
    }

    @Override
    public void write(String series, SeriesState state, float[] x, int offset, int width) {
      ArrayDeque<float[]> q = rows.computeIfAbsent(series, k -> new ArrayDeque<>());
      q.addLast(Arrays.copyOfRange(x, offset, offset + width));
      if (q.size() > capacity) {
        q.removeFirst();
      }
    }
  }

  /** Counts what the engine reports. */
  static final class Counting implements StepListener {
    final List<Integer> batches = new ArrayList<>();
    final List<Double> errors = new ArrayList<>();
    int burnIns;

    @Override
    public void step(long nanos, int batch) {
      batches.add(batch);
    }

    @Override
    public void scored(double absError, double absErrorPersistence) {
      errors.add(absError);
    }

    @Override
    public void burnIn() {
      burnIns++;
    }
  }

  @Test
  void shouldScoreTheFirstEventAfterAModelSwapAgainstTheOldModelsForecast() {
    Counting listener = new Counting();
    try (StepEngine engine = new StepEngine(spec, 1, new MemoryRecentInputs(24), listener)) {
      engine.use(one);
      SeriesState st = null;
      double lastForecast = Double.NaN;
      for (int h = 1; h <= 4; h++) {
        int slot = engine.stepOne("s", event("s", h, 4 + h / 10.0), st);
        st = engine.state(slot);
        lastForecast = engine.forecast(slot);
        engine.clear();
      }
      assertThat(st.errorCount()).isEqualTo(3);
      engine.use(two);
      int slot = engine.stepOne("s", event("s", 5, 4.7), st);
      // The forecast the old model made at the last event is what this event labels.
      assertThat(engine.previousForecast(slot)).isEqualTo(lastForecast);
      assertThat(engine.state(slot).errorCount()).isEqualTo(4);
      assertThat(listener.errors).hasSize(4);
      assertThat(listener.errors.get(3)).isEqualTo(Math.abs(4.7 - lastForecast));
      assertThat(listener.burnIns).isEqualTo(1);
      assertThat(engine.state(slot).madeBy(ModelId.of(two.version()))).isTrue();
      assertThat(engine.state(slot).modelSteps()).isEqualTo(5);
      assertThat(engine.warm(slot)).isFalse();
    }
  }

  @Test
  void shouldRefuseLateDuplicateAndUncarriableEventsWithoutTouchingTheState() {
    TopologySpec carry = SpecFixtures.withMissing(spec, TopologySpec.MissingPolicy.CARRY_FORWARD);
    try (StepEngine engine = new StepEngine(carry, 1, RecentInputs.NONE, StepListener.NONE)) {
      engine.use(one);
      assertThat(engine.stepOne("s", Event.of("s", T0, 4.0, Double.NaN, 3.5), null)).isEqualTo(-1);
      assertThat(engine.refusal()).isEqualTo(Rejection.MISSING_FIELD);
      assertThat(engine.refusalMessage()).contains("pressure");
      int slot = engine.stepOne("s", event("s", 2, 4.0), null);
      SeriesState st = engine.state(slot);
      engine.clear();
      SeriesState before = st.copy();
      assertThat(engine.stepOne("s", event("s", 1, 4.0), st)).isEqualTo(-1);
      assertThat(engine.refusal()).isEqualTo(Rejection.LATE);
      assertThat(engine.stepOne("s", event("s", 2, 4.0), st)).isEqualTo(-1);
      assertThat(engine.refusal()).isEqualTo(Rejection.DUPLICATE);
      assertThat(st.steps()).isEqualTo(before.steps());
      assertThat(st.states()[0]).isEqualTo(before.states()[0]);
      // A missing field is carried forward from the last event.
      Event gap = Event.of("s", T0 + 3 * HOUR, 4.1, Double.NaN, 3.7);
      assertThat(engine.stepOne("s", gap, st)).isZero();
      assertThat(gap.fields()[0]).isEqualTo(1016.5);
    }
  }

  @Test
  void shouldGiveBitIdenticalForecastsBatchedAndOneAtATime() {
    int series = 7;
    int hours = 12;
    Map<String, SeriesState> single = new HashMap<>();
    Map<String, SeriesState> batched = new HashMap<>();
    List<Double> singleOut = new ArrayList<>();
    List<Double> batchedOut = new ArrayList<>();
    Counting listener = new Counting();
    try (StepEngine a = new StepEngine(spec, 1, new MemoryRecentInputs(24), StepListener.NONE);
        StepEngine b = new StepEngine(spec, 4, new MemoryRecentInputs(24), listener)) {
      a.use(one);
      b.use(one);
      for (int h = 1; h <= hours; h++) {
        if (h == 7) {
          a.use(two);
          b.run();
          drain(b, batched, batchedOut);
          b.use(two);
        }
        for (int s = 0; s < series; s++) {
          String id = "s" + s;
          double temp = 3 + s + Math.sin(h + s);
          int slot = a.stepOne(id, event(id, h, temp), single.get(id));
          single.put(id, a.state(slot));
          singleOut.add(a.forecast(slot));
          a.clear();
          if (b.isFull() || b.isStaged(id)) {
            b.run();
            drain(b, batched, batchedOut);
          }
          assertThat(b.stage(id, event(id, h, temp), batched.get(id))).isNotNegative();
        }
      }
      b.run();
      drain(b, batched, batchedOut);
    }
    assertThat(batchedOut).containsExactlyElementsOf(singleOut);
    assertThat(listener.batches).contains(4).allMatch(n -> n >= 1 && n <= 4);
    assertThat(listener.burnIns).isEqualTo(series);
    for (String id : single.keySet()) {
      assertThat(batched.get(id).states()).isDeepEqualTo(single.get(id).states());
      assertThat(batched.get(id).mae()).isEqualTo(single.get(id).mae());
    }
  }

  private static void drain(StepEngine e, Map<String, SeriesState> states, List<Double> out) {
    for (int i = 0; i < e.staged(); i++) {
      states.put(e.id(i), e.state(i));
      out.add(e.forecast(i));
    }
    e.clear();
  }

  @Test
  void shouldRollForecastsForwardWithoutChangingTheLiveState() {
    try (StepEngine engine = new StepEngine(spec, 1, RecentInputs.NONE, StepListener.NONE)) {
      engine.use(one);
      SeriesState st = null;
      for (int h = 1; h <= 5; h++) {
        st = engine.state(engine.stepOne("s", event("s", h, 4 + h / 10.0), st));
        engine.clear();
      }
      SeriesState before = st.copy();
      long[] times = new long[4];
      double[] forecasts = new double[4];
      assertThat(engine.roll("s", st, 4, times, forecasts)).isEqualTo(4);
      assertThat(st.states()).isDeepEqualTo(before.states());
      assertThat(st.steps()).isEqualTo(before.steps());
      assertThat(forecasts[0]).isEqualTo(st.lastForecast());
      assertThat(times).containsExactly(T0 + 6 * HOUR, T0 + 7 * HOUR, T0 + 8 * HOUR, T0 + 9 * HOUR);
      // Rolling is stepping the same engine with each forecast as the next actual value.
      SeriesState copy = st.copy();
      double f = forecasts[0];
      for (int k = 1; k < 4; k++) {
        float[] last = copy.lastFields();
        Event e = Event.of("s", times[k - 1], f, last[0], last[1]);
        int slot = engine.stepOne("s", e, copy);
        f = engine.forecast(slot);
        engine.clear();
        assertThat(forecasts[k]).isEqualTo(f);
      }
    }
  }
}
