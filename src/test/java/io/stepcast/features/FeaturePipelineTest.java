package io.stepcast.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeaturePipelineTest {
  private final FeaturePipeline weather = new FeaturePipeline(SpecFixtures.weather());
  private final FeaturePipeline stocks = new FeaturePipeline(SpecFixtures.stocks());

  @Test
  void shouldNameColumnsInOrder() {
    assertThat(weather.columns())
        .containsExactly(
            "temperature:difference",
            "pressure",
            "wind",
            "hour_of_day:sin",
            "hour_of_day:cos",
            "day_of_year:sin",
            "day_of_year:cos");
    assertThat(stocks.columns()).containsExactly("price:log_return");
  }

  @Test
  void shouldComputeDifferencesAndCalendarFromMemory() {
    SeriesReplay.Memory m = new SeriesReplay.Memory(2);
    float[] x = new float[weather.width()];
    // 2010-01-01T06:00Z: a quarter of the day -> sin 1, cos 0.
    Event first = Event.of("s", 1262325600000L, 4.0, 1016.0, 3.0);
    weather.features(first, m, x);
    assertThat(x[0]).isEqualTo(0f);
    assertThat(x[1]).isEqualTo(1016f);
    assertThat(x[3]).isCloseTo(1f, within(1e-6f));
    assertThat(x[4]).isCloseTo(0f, within(1e-6f));
    weather.remember(first, m);
    Event second = Event.of("s", 1262329200000L, 5.5, 1015.0, 2.0);
    weather.features(second, m, x);
    assertThat(x[0]).isEqualTo(1.5f);
  }

  @Test
  void shouldInvertTargetTransforms() {
    assertThat(weather.forecast(weather.label(7.0, 5.0), 5.0)).isCloseTo(7.0, within(1e-12));
    assertThat(stocks.forecast(stocks.label(110.0, 100.0), 100.0)).isCloseTo(110.0, within(1e-9));
    assertThat(stocks.label(110.0, 100.0)).isCloseTo(Math.log(1.1), within(1e-12));
  }

  @Test
  void shouldCarryForwardLastSeenFields() {
    SeriesReplay.Memory m = new SeriesReplay.Memory(2);
    Event missing = Event.of("s", 1L, 1.0, Double.NaN, 2.0);
    assertThat(weather.carryForward(missing, m)).isEqualTo(0);
    weather.remember(Event.of("s", 0L, 1.0, 1000.0, 1.0), m);
    assertThat(weather.carryForward(missing, m)).isEqualTo(-1);
    assertThat(missing.fields()).containsExactly(1000.0, 2.0);
  }

  @Test
  void shouldReplayASeriesIntoRowsAndNextStepLabels() {
    List<Event> events =
        List.of(Event.of("s", 0L, 10.0), Event.of("s", 1L, 12.0), Event.of("s", 2L, 11.0));
    FeaturePipeline p = new FeaturePipeline(SpecFixtures.withNoFeatures(SpecFixtures.weather()));
    SeriesReplay.Rows rows = SeriesReplay.rows(p, events);
    assertThat(rows.x()).hasNumberOfRows(2);
    assertThat(rows.x()[1][0]).isEqualTo(2f);
    assertThat(rows.y()[0][0]).isEqualTo(2f);
    assertThat(rows.y()[1][0]).isEqualTo(-1f);
  }

  @Test
  void shouldEncodeTheMonthOfTheYearWithATwelveMonthPeriod() {
    TopologySpec w = SpecFixtures.weather();
    TopologySpec spec =
        new TopologySpec(
            w.name(),
            w.applicationId(),
            w.topics(),
            w.seriesId(),
            w.timestamp(),
            List.of(
                new TopologySpec.Feature(
                    null, TopologySpec.CalendarFeature.MONTH_OF_YEAR, null, null, null)),
            w.target(),
            w.model(),
            w.policies(),
            w.intervals(),
            w.training(),
            w.execution(),
            w.processing(),
            w.csv());
    FeaturePipeline p = new FeaturePipeline(spec);
    assertThat(p.columns())
        .containsExactly("temperature:difference", "month_of_year:sin", "month_of_year:cos");
    // Phase (month - 1 + (day - 1 + hour / 24) / daysInMonth) / 12.
    assertThat(monthPhase(p, "2021-01-01T00:00:00Z")).isCloseTo(0.0, within(1e-6));
    assertThat(monthPhase(p, "2021-04-01T00:00:00Z")).isCloseTo(0.25, within(1e-6));
    assertThat(monthPhase(p, "2021-07-01T00:00:00Z")).isCloseTo(0.5, within(1e-6));
    // Mid-February of a leap year: 1 + 14.5 / 29 months into the year.
    assertThat(monthPhase(p, "2024-02-15T12:00:00Z")).isCloseTo((1 + 14.5 / 29) / 12, within(1e-6));
    assertThat(monthPhase(p, "2021-12-31T23:00:00Z"))
        .isCloseTo((11 + (30 + 23 / 24.0) / 31) / 12, within(1e-6));
  }

  /** The phase in [0, 1) recovered from the sine and cosine columns. */
  private static double monthPhase(FeaturePipeline p, String time) {
    float[] x = new float[p.width()];
    p.features(
        Event.of("s", java.time.Instant.parse(time).toEpochMilli(), 1.0),
        new SeriesReplay.Memory(0),
        x);
    double phase = Math.atan2(x[1], x[2]) / (2 * Math.PI);
    return phase < -1e-9 ? phase + 1 : phase;
  }
}
