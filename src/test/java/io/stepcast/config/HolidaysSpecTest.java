package io.stepcast.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.features.SeriesCalendar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code timestamp.holidays}: read, validated in one line, and applied by the series' calendar. */
class HolidaysSpecTest {
  @TempDir Path dir;

  private Path spec(String timestamp) throws IOException {
    Path f = dir.resolve("spec.yaml");
    Files.writeString(
        f, "name: demo\ntimestamp:\n  field: t\n" + timestamp + "target:\n  field: v\n");
    return f;
  }

  private static long utc(String local) {
    return LocalDateTime.parse(local).toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  @Test
  void shouldReadHolidaysThatTheBusinessDayCalendarSkips() throws IOException {
    Path f =
        spec(
            "  calendar: business_days\n"
                + "  holidays: ['2026-12-25', 2027-01-01, '2026-12-25']\n");
    TopologySpec s = SpecLoader.load(f, Map.of());
    assertThat(s.timestamp().holidays()).containsExactly("2026-12-25", "2027-01-01", "2026-12-25");
    SeriesCalendar cal = SeriesCalendar.of(s);
    assertThat(cal.ahead(utc("2026-12-23T00:00"), utc("2026-12-24T00:00"), 1))
        .isEqualTo(utc("2026-12-28T00:00"));
    assertThat(cal.ahead(utc("2026-12-30T00:00"), utc("2026-12-31T00:00"), 1))
        .isEqualTo(utc("2027-01-04T00:00"));
  }

  @Test
  void shouldSkipTheExchangeHolidaysOfTheShippedSp500Spec() {
    TopologySpec s = SpecLoader.load(Path.of("topologies/sp500.yaml"), Map.of());
    SeriesCalendar cal = SeriesCalendar.of(s);
    ZoneId ny = ZoneId.of("America/New_York");
    // Wednesday before Thanksgiving: Friday; Thursday before Christmas (a Friday): Monday.
    assertThat(cal.ahead(closeAt("2026-11-24", ny), closeAt("2026-11-25", ny), 1))
        .isEqualTo(closeAt("2026-11-27", ny));
    assertThat(cal.ahead(closeAt("2026-12-23", ny), closeAt("2026-12-24", ny), 1))
        .isEqualTo(closeAt("2026-12-28", ny));
    // Friday before Memorial Day 2027: Tuesday.
    assertThat(cal.ahead(closeAt("2027-05-27", ny), closeAt("2027-05-28", ny), 1))
        .isEqualTo(closeAt("2027-06-01", ny));
  }

  private static long closeAt(String day, ZoneId zone) {
    return LocalDate.parse(day).atTime(16, 0).atZone(zone).toInstant().toEpochMilli();
  }

  @Test
  void shouldDefaultToNoHolidaysAndTakeThemFromTheEnvironment() throws IOException {
    Path f = spec("  calendar: business_days\n");
    assertThat(SpecLoader.load(f, Map.of()).timestamp().holidays()).isEmpty();
    TopologySpec s =
        SpecLoader.load(f, Map.of("STEPCAST_TIMESTAMP_HOLIDAYS", "[2026-12-24, '2026-12-25']"));
    assertThat(s.timestamp().holidays()).containsExactly("2026-12-24", "2026-12-25");
    assertThat(SeriesCalendar.of(s).ahead(utc("2026-12-22T00:00"), utc("2026-12-23T00:00"), 1))
        .isEqualTo(utc("2026-12-28T00:00"));
  }

  @Test
  void shouldRefuseADateThatIsNotAnIsoDateInOneLine() throws IOException {
    for (String bad :
        new String[] {"'2026-02-30'", "'25.12.2026'", "'2026-12-25T00:00'", "'2026-1-5'", "''"}) {
      Path f = spec("  calendar: business_days\n  holidays: ['2026-12-24', " + bad + "]\n");
      assertOneLine(f, Map.of(), "field 'timestamp.holidays'", "date 1", "is not an ISO date");
    }
    // A single date without the list's brackets, from the environment.
    Path f = spec("  calendar: business_days\n");
    assertOneLine(
        f,
        Map.of("STEPCAST_TIMESTAMP_HOLIDAYS", "2026-12-25"),
        "environment variable STEPCAST_TIMESTAMP_HOLIDAYS",
        "field 'timestamp.holidays'");
    Path nul = spec("  calendar: business_days\n  holidays:\n    - 2026-12-24\n    -\n");
    assertOneLine(nul, Map.of(), "field 'timestamp.holidays'", "date 1 ''");
  }

  @Test
  void shouldRefuseHolidaysWithoutBusinessDays() throws IOException {
    Path f = spec("  holidays: ['2026-12-25']\n");
    assertOneLine(
        f,
        Map.of(),
        "field 'timestamp.holidays'",
        "timestamp.calendar is continuous",
        "set timestamp.calendar: business_days");
    Path business = spec("  calendar: business_days\n  holidays: ['2026-12-25']\n");
    assertOneLine(
        business,
        Map.of("STEPCAST_TIMESTAMP_CALENDAR", "continuous"),
        "environment variable STEPCAST_TIMESTAMP_CALENDAR): field 'timestamp.calendar'",
        "is continuous, which has no days off");
  }

  @Test
  void shouldRefuseMoreHolidaysThanTheLimit() throws IOException {
    String many =
        IntStream.range(0, 1001)
            .mapToObj(i -> "'" + LocalDate.parse("2000-01-01").plusDays(i) + "'")
            .collect(Collectors.joining(", "));
    Path f = spec("  calendar: business_days\n  holidays: [" + many + "]\n");
    assertOneLine(f, Map.of(), "field 'timestamp.holidays'", "1001 dates, at most 1000");
  }

  private static void assertOneLine(Path f, Map<String, String> env, String... parts) {
    SpecFixtures.assertOneLine(() -> SpecLoader.load(f, env), parts);
  }
}
