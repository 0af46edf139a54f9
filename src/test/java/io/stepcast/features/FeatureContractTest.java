package io.stepcast.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The feature encodings as docs/MODEL-CONTRACT.md states them: column order and names, each
 * calendar encoding's period and phase in the spec's zone (daylight saving time included), the
 * target transform with 0 on a series' first event, and the hours since the previous event.
 */
class FeatureContractTest {
  @TempDir Path dir;

  private FeaturePipeline pipeline(String transform) throws Exception {
    Path file = dir.resolve("contract-" + transform + ".yaml");
    Files.writeString(
        file,
        String.join(
            "\n",
            "name: contract",
            "seriesId: {from: key}",
            "timestamp: {field: time, format: iso, zone: Europe/Berlin}",
            "features:",
            "  - field: load",
            "  - calendar: hour_of_day",
            "  - calendar: day_of_week",
            "  - calendar: day_of_year",
            "  - calendar: month_of_year",
            "  - timeSincePrevious: true",
            "target: {field: level, transform: " + transform + "}",
            ""));
    TopologySpec spec = SpecLoader.load(file, Map.of());
    return new FeaturePipeline(spec);
  }

  @Test
  void shouldOrderAndNameTheColumnsAsDocumented() throws Exception {
    assertThat(pipeline("difference").columns())
        .containsExactly(
            "level:difference",
            "load",
            "hour_of_day:sin",
            "hour_of_day:cos",
            "day_of_week:sin",
            "day_of_week:cos",
            "day_of_year:sin",
            "day_of_year:cos",
            "month_of_year:sin",
            "month_of_year:cos",
            "hours_since_previous");
    assertThat(pipeline("none").columns().get(0)).isEqualTo("level");
    assertThat(pipeline("log_return").columns().get(0)).isEqualTo("level:log_return");
  }

  @Test
  void shouldEncodeTheCalendarInTheSpecsZoneWithTheDocumentedPeriods() throws Exception {
    FeaturePipeline p = pipeline("difference");
    SeriesReplay.Memory memory = new SeriesReplay.Memory(1);
    float[] x = new float[p.width()];
    // 2024-03-31T01:30:45Z is 03:30:45 CEST in Berlin, the morning clocks went forward; a Sunday,
    // day 91 of a leap year, the 31st of a 31-day March.
    Event first = Event.of("s", Instant.parse("2024-03-31T01:30:45Z").toEpochMilli(), 20.0, 7.5);

    p.features(first, memory, x);

    assertThat(x[0]).as("difference on a series' first event").isEqualTo(0f);
    assertThat(x[1]).isEqualTo(7.5f);
    assertEncoded(x, 2, (3 + 30 / 60.0) / 24.0);
    assertEncoded(x, 4, (7 - 1 + 3 / 24.0) / 7.0);
    assertEncoded(x, 6, (91 - 1 + 3 / 24.0) / 365.25);
    assertEncoded(x, 8, (3 - 1 + (31 - 1 + 3 / 24.0) / 31) / 12.0);
    assertThat(x[10]).as("no previous event").isEqualTo(0f);

    p.remember(first, memory);
    Event second = Event.of("s", Instant.parse("2024-03-31T03:00:45Z").toEpochMilli(), 18.5, 7.0);
    p.features(second, memory, x);

    assertThat(x[0]).isEqualTo(-1.5f);
    assertThat(x[10]).as("hours since the previous event").isEqualTo(1.5f);
    assertEncoded(x, 2, (5 + 0 / 60.0) / 24.0);
  }

  @Test
  void shouldPutAQuarterDayAtSineOneAndCosineAlmostZero() throws Exception {
    FeaturePipeline p = pipeline("none");
    float[] x = new float[p.width()];
    // 06:00 in Berlin in winter (UTC+1).
    p.features(
        Event.of("s", Instant.parse("2010-01-01T05:00:00Z").toEpochMilli(), 4.0, 1.0),
        new SeriesReplay.Memory(1),
        x);

    assertThat(x[0]).as("transform none: the raw target").isEqualTo(4f);
    assertThat(x[2]).isEqualTo(1f);
    assertThat(x[3]).isEqualTo(6.123234E-17f);
  }

  @Test
  void shouldLabelAndForecastWithEachTransform() throws Exception {
    assertThat(pipeline("none").label(12.0, 10.0)).isEqualTo(12.0);
    assertThat(pipeline("difference").label(12.0, 10.0)).isEqualTo(2.0);
    assertThat(pipeline("log_return").label(12.0, 10.0)).isEqualTo(Math.log(12.0 / 10.0));
    assertThat(pipeline("none").forecast(12.0, 10.0)).isEqualTo(12.0);
    assertThat(pipeline("difference").forecast(2.0, 10.0)).isEqualTo(12.0);
    assertThat(pipeline("log_return").forecast(Math.log(1.2), 10.0)).isEqualTo(10.0 * 1.2);
  }

  private static void assertEncoded(float[] x, int column, double phase) {
    assertThat(x[column]).isEqualTo((float) Math.sin(2 * Math.PI * phase));
    assertThat(x[column + 1]).isEqualTo((float) Math.cos(2 * Math.PI * phase));
  }
}
