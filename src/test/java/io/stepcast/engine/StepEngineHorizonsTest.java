package io.stepcast.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.SeriesReplay;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.StepModel;
import io.stepcast.model.Stepper;
import io.stepcast.state.SeriesState;
import io.stepcast.train.PipelineModels;
import io.stepcast.train.ServingReplay;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The step engine with several targets and horizons: what the trainer sees, rolls, calendars. */
class StepEngineHorizonsTest {
  private static final long DAY = 86_400_000L;

  private static long utc(String local) {
    return LocalDateTime.parse(local).toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  private static TopologySpec businessDays() {
    return SpecLoader.load(
        Path.of("topologies/weather-horizons.yaml"),
        Map.of("STEPCAST_TIMESTAMP_CALENDAR", "business_days"));
  }

  /** Daily events on weekdays only, Monday 2026-11-02 on, as a stock exchange publishes them. */
  private static List<Event> weekdays(int n) {
    List<Event> out = new ArrayList<>();
    long t = utc("2026-11-02T00:00");
    for (int i = 0; out.size() < n; i++, t += DAY) {
      int weekday =
          LocalDateTime.ofEpochSecond(t / 1000, 0, ZoneOffset.UTC).getDayOfWeek().getValue();
      if (weekday < 6) {
        out.add(Event.of("s", t, 10 + Math.sin(i), 1010 + i % 3, 2 + Math.cos(i / 2.0)));
      }
    }
    return out;
  }

  @Test
  void shouldForecastEveryOutputExactlyAsTheTrainersRowsThroughTheSameModel() throws Exception {
    TopologySpec spec = SpecFixtures.weatherHorizons();
    try (StepModel model = StepModel.load(PipelineModels.fixed(spec, 5), ExecutionConfig.cpu())) {
      List<Event> events = weekdays(30);
      double[][] served = ServingReplay.allForecasts(model, spec, events);
      // The trainer's side: its feature rows stepped through the model, mapped to target units.
      SeriesReplay.Rows rows =
          SeriesReplay.rows(new io.stepcast.features.FeaturePipeline(spec), events);
      io.stepcast.features.FeaturePipeline p = new io.stepcast.features.FeaturePipeline(spec);
      float[][] states = {new float[model.stateSize(0)], new float[model.stateSize(1)]};
      float[] y = new float[model.outputSize()];
      try (Stepper stepper = model.newStepper(1)) {
        for (int t = 0; t < rows.x().length; t++) {
          stepper.step(rows.x()[t], states, y);
          for (int o = 0; o < y.length; o++) {
            double expected = p.forecast(o / 3, y[o], rows.allTargets()[o / 3][t]);
            assertThat(served[t][o]).as("event %d output %d", t, o).isEqualTo(expected);
          }
        }
      }
    }
  }

  @Test
  void shouldGiveEachHorizonItsTimeOnBusinessDaysFromAFriday() throws Exception {
    TopologySpec spec = businessDays();
    try (StepModel model = StepModel.load(PipelineModels.fixed(spec, 5), ExecutionConfig.cpu());
        StepEngine engine = new StepEngine(spec, 1, RecentInputs.NONE, StepListener.NONE)) {
      engine.use(model);
      SeriesState st = null;
      List<Event> events = weekdays(20);
      int slot = -1;
      for (Event e : events) {
        if (slot >= 0) {
          engine.clear();
        }
        slot = engine.stepOne("s", e, st);
        st = engine.state(slot);
      }
      // The 20th weekday from Monday 2026-11-02 is Friday 2026-11-27.
      assertThat(engine.eventTime(slot)).isEqualTo(utc("2026-11-27T00:00"));
      assertThat(engine.forTime(slot, 0)).isEqualTo(utc("2026-11-30T00:00"));
      assertThat(engine.forTime(slot, 1)).isEqualTo(utc("2026-12-07T00:00"));
      assertThat(engine.forTime(slot, 2)).isEqualTo(utc("2026-12-31T00:00"));
      engine.clear();

      long[] times = new long[7];
      double[] forecasts = new double[7 * 2];
      assertThat(engine.roll("s", st, 7, times, forecasts)).isEqualTo(7);
      assertThat(times)
          .containsExactly(
              utc("2026-11-30T00:00"),
              utc("2026-12-01T00:00"),
              utc("2026-12-02T00:00"),
              utc("2026-12-03T00:00"),
              utc("2026-12-04T00:00"),
              utc("2026-12-07T00:00"),
              utc("2026-12-08T00:00"));
    }
  }

  @Test
  void shouldRollEveryTargetFeedingBackTheLastForecastsOfAll() throws Exception {
    TopologySpec spec = SpecFixtures.weatherHorizons();
    try (StepModel model = StepModel.load(PipelineModels.fixed(spec, 9), ExecutionConfig.cpu());
        StepEngine engine = new StepEngine(spec, 1, RecentInputs.NONE, StepListener.NONE)) {
      engine.use(model);
      SeriesState st = null;
      int slot = -1;
      double lastTemperature = 0;
      double lastWind = 0;
      for (Event e : weekdays(12)) {
        slot = engine.stepOne("s", e, st);
        st = engine.state(slot);
        lastTemperature = engine.forecast(slot, 0, 0);
        lastWind = engine.forecast(slot, 1, 0);
        engine.clear();
      }
      SeriesState live = st.copy();
      long[] times = new long[3];
      double[] forecasts = new double[6];
      assertThat(engine.roll("s", st, 3, times, forecasts)).isEqualTo(3);
      assertThat(forecasts[0]).isEqualTo(lastTemperature);
      assertThat(forecasts[1]).isEqualTo(lastWind);
      assertThat(st.steps()).isEqualTo(live.steps());
      // Step two is an event at step one's time whose targets are step one's forecasts.
      float[] fields = live.lastFields();
      Event next = Event.of("s", times[0], lastTemperature, fields[0], lastWind);
      int s2 = engine.stepOne("s", next, live.copy());
      assertThat(forecasts[2]).isEqualTo(engine.forecast(s2, 0, 0));
      assertThat(forecasts[3]).isEqualTo(engine.forecast(s2, 1, 0));
      engine.clear();
    }
  }
}
