package io.stepcast.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.Rejection;
import io.stepcast.features.SeriesReplay;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.StepModel;
import io.stepcast.model.Stepper;
import io.stepcast.state.ModelId;
import io.stepcast.state.SeriesState;
import io.stepcast.train.PipelineModels;
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
    int hours = 40; // past the largest lag (25): batched lag reads too
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

  /** Records every row the engine keeps, by step. */
  static final class Recording implements RecentInputs {
    final MemoryRecentInputs inner;
    final Map<Long, float[]> rows = new HashMap<>();

    Recording(int capacity) {
      inner = new MemoryRecentInputs(capacity);
    }

    @Override
    public int read(String series, SeriesState state, float[] out, int width, int max) {
      return inner.read(series, state, out, width, max);
    }

    @Override
    public void write(String series, SeriesState state, float[] x, int offset, int width) {
      rows.put(state.steps(), Arrays.copyOfRange(x, offset, offset + width));
      inner.write(series, state, x, offset, width);
    }

    @Override
    public void write(
        String series,
        SeriesState state,
        float[] x,
        int offset,
        int width,
        double[] scores,
        int scoresOffset,
        int count) {
      rows.put(state.steps(), Arrays.copyOfRange(x, offset, offset + width));
      inner.write(series, state, x, offset, width, scores, scoresOffset, count);
    }

    @Override
    public boolean scores(String series, long step, double[] out, int count) {
      return inner.scores(series, step, out, count);
    }
  }

  private static List<Event> dailyCycle(String id, int hours) {
    List<Event> events = new ArrayList<>();
    for (int h = 0; h < hours; h++) {
      events.add(event(id, h, 4 + 3 * Math.sin(2 * Math.PI * h / 24) + 0.05 * h));
    }
    return events;
  }

  @Test
  void shouldStepWithTheLagFeaturesTheTrainerComputes() {
    List<Event> events = dailyCycle("s", 60);
    float[][] trainer = SeriesReplay.rows(new FeaturePipeline(spec), events).x();
    Recording recent = new Recording(spec.model().ringBuffer());
    try (StepEngine engine = new StepEngine(spec, 1, recent, StepListener.NONE)) {
      engine.use(one);
      SeriesState st = null;
      for (Event e : events) {
        st = engine.state(engine.stepOne("s", e.copy(), st));
        engine.clear();
      }
    }
    int lag24 = new FeaturePipeline(spec).columns().indexOf("temperature:lag24");
    for (int t = 0; t < trainer.length; t++) {
      assertThat(recent.rows.get((long) t)).as("row %d", t).containsExactly(trainer[t]);
    }
    // From event 23 on the lag column is the seasonal-naive label, before it persistence (0).
    assertThat(trainer[22][lag24]).isZero();
    assertThat(trainer[40][lag24])
        .isEqualTo((float) (events.get(17).target() - events.get(40).target()));
  }

  @Test
  void shouldBurnInANewModelOnKeptRowsWithTheirLagsAfterASwap() throws Exception {
    List<Event> events = dailyCycle("s", 50);
    float[][] rows = SeriesReplay.rows(new FeaturePipeline(spec), events).x();
    int capacity = spec.model().ringBuffer();
    List<Double> live = new ArrayList<>();
    try (StepEngine engine =
        new StepEngine(spec, 1, new MemoryRecentInputs(capacity), StepListener.NONE)) {
      engine.use(one);
      SeriesState st = null;
      for (int t = 0; t < events.size(); t++) {
        if (t == 40) {
          engine.use(two);
        }
        int slot = engine.stepOne("s", events.get(t).copy(), st);
        st = engine.state(slot);
        live.add(engine.forecast(slot));
        engine.clear();
      }
    }
    // Independently: the new model from zero over the kept rows of events 15..39, then on.
    FeaturePipeline p = new FeaturePipeline(spec);
    float[][] states = new float[two.stateCount()][];
    for (int i = 0; i < states.length; i++) {
      states[i] = new float[two.stateSize(i)];
    }
    float[] y = new float[two.outputSize()];
    try (Stepper stepper = two.newStepper(1)) {
      for (int t = 40 - capacity; t < 49; t++) {
        stepper.step(rows[t], states, y);
        if (t >= 40) {
          assertThat(live.get(t))
              .as("forecast at %d", t)
              .isEqualTo(p.forecast(y[0], events.get(t).target()));
        }
      }
    }
  }

  @Test
  void shouldRollLagFeaturesOverKeptActualsThenOverTheRolledForecasts() {
    MemoryRecentInputs recent = new MemoryRecentInputs(spec.model().ringBuffer());
    try (StepEngine engine = new StepEngine(spec, 1, recent, StepListener.NONE)) {
      engine.use(one);
      SeriesState st = null;
      for (Event e : dailyCycle("s", 30)) {
        st = engine.state(engine.stepOne("s", e, st));
        engine.clear();
      }
      // 30 steps: the first 23 read kept actuals, the later ones forecasts rolled before them.
      int steps = 30;
      long[] times = new long[steps];
      double[] forecasts = new double[steps];
      assertThat(engine.roll("s", st, steps, times, forecasts)).isEqualTo(steps);
      SeriesState copy = st.copy();
      for (int k = 1; k < steps; k++) {
        float[] last = copy.lastFields();
        Event e = Event.of("s", times[k - 1], forecasts[k - 1], last[0], last[1]);
        int slot = engine.stepOne("s", e, copy);
        assertThat(forecasts[k]).as("step %d", k).isEqualTo(engine.forecast(slot));
        engine.clear();
      }
    }
  }
}
