package io.stepcast.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import java.util.ArrayList;
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
            "temperature:lag24",
            "temperature:lag25",
            "hour_of_day:sin",
            "hour_of_day:cos");
    assertThat(stocks.columns()).containsExactly("price:log_return");
  }

  @Test
  void shouldComputeDifferencesAndCalendarFromMemory() {
    SeriesReplay.Memory m = new SeriesReplay.Memory(2);
    float[] x = new float[weather.width()];
    double[] unknown = {Double.NaN, Double.NaN};
    // 2010-01-01T06:00Z: a quarter of the day -> sin 1, cos 0.
    Event first = Event.of("s", 1262325600000L, 4.0, 1016.0, 3.0);
    weather.features(first, m, unknown, x, 0);
    assertThat(x[0]).isEqualTo(0f);
    assertThat(x[1]).isEqualTo(1016f);
    assertThat(x[5]).isCloseTo(1f, within(1e-6f));
    assertThat(x[6]).isCloseTo(0f, within(1e-6f));
    weather.remember(first, m);
    Event second = Event.of("s", 1262329200000L, 5.5, 1015.0, 2.0);
    weather.features(second, m, unknown, x, 0);
    assertThat(x[0]).isEqualTo(1.5f);
  }

  @Test
  void shouldGiveTheSeasonalNaiveLabelAsTheLagFeatureAndPersistenceWhileUnknown() {
    SeriesReplay.Memory m = new SeriesReplay.Memory(2);
    float[] x = new float[weather.width()];
    Event e = Event.of("s", 1262325600000L, 5.5, 1016.0, 3.0);
    // Same hour yesterday 3.25, the hour before it 2.0: the differences the label would be.
    weather.features(e, m, new double[] {3.25, 2.0}, x, 0);
    assertThat(x[3]).isEqualTo(3.25f - 5.5f);
    assertThat(x[4]).isEqualTo(2.0f - 5.5f);
    // A series younger than the lag: persistence (the difference of the value from itself).
    weather.features(e, m, new double[] {Double.NaN, 2.0}, x, 0);
    assertThat(x[3]).isZero();
    assertThat(x[4]).isEqualTo(-3.5f);
    // Under log_return the lag is the log return to the lagged value, under none the value.
    FeaturePipeline logs = new FeaturePipeline(withLag(SpecFixtures.stocks(), 12));
    float[] y = new float[logs.width()];
    logs.features(Event.of("s", 0L, 110.0), m, new double[] {100.0}, y, 0);
    assertThat(logs.columns()).containsExactly("price:log_return", "price:lag12");
    assertThat(y[1]).isCloseTo((float) Math.log(100.0 / 110.0), within(1e-7f));
  }

  @Test
  void shouldRefuseToComputeLagFeaturesWithoutTheirValues() {
    float[] x = new float[weather.width()];
    SeriesReplay.Memory m = new SeriesReplay.Memory(2);
    assertThatThrownBy(() -> weather.features(Event.of("s", 0L, 1.0, 1.0, 1.0), m, x))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("2 lag features");
  }

  @Test
  void shouldReplayLagsFromTheEventsTheServerKeeps() {
    List<Event> events = new ArrayList<>();
    for (int t = 0; t < 30; t++) {
      events.add(Event.of("s", t * 3_600_000L, 10.0 + t * t, 1000.0, 1.0));
    }
    SeriesReplay.Rows rows = SeriesReplay.rows(weather, events);
    for (int t = 0; t < 29; t++) {
      double current = events.get(t).target();
      double lag24 = t >= 23 ? events.get(t - 23).target() : current;
      double lag25 = t >= 24 ? events.get(t - 24).target() : current;
      assertThat(rows.x()[t][3]).as("lag24 at %d", t).isEqualTo((float) (lag24 - current));
      assertThat(rows.x()[t][4]).as("lag25 at %d", t).isEqualTo((float) (lag25 - current));
    }
  }

  private static TopologySpec withLag(TopologySpec w, int lag) {
    return SpecFixtures.withFeatures(
        w, List.of(new TopologySpec.Feature(null, null, null, lag, null, null)));
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
        SpecFixtures.withFeatures(
            w,
            List.of(
                new TopologySpec.Feature(
                    null, TopologySpec.CalendarFeature.MONTH_OF_YEAR, null, null, null, null)));
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
