package io.stepcast.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.TopologySpec.TimeCalendar;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class SeriesCalendarTest {
  private static final ZoneId UTC = ZoneOffset.UTC;
  private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
  private static final SeriesCalendar BUSINESS = SeriesCalendar.of(TimeCalendar.BUSINESS_DAYS, UTC);

  private static long at(String local, ZoneId zone) {
    return LocalDateTime.parse(local).atZone(zone).toInstant().toEpochMilli();
  }

  private static long utc(String local) {
    return at(local, UTC);
  }

  @Test
  void shouldStepDailyBusinessSeriesFromFridayToMonday() {
    // 2026-11-26 is a Thursday, 11-27 a Friday, 11-30 a Monday.
    long thu = utc("2026-11-26T00:00");
    long fri = utc("2026-11-27T00:00");
    assertThat(BUSINESS.ahead(thu, fri, 1)).isEqualTo(utc("2026-11-30T00:00"));
    assertThat(BUSINESS.ahead(thu, fri, 2)).isEqualTo(utc("2026-12-01T00:00"));
    assertThat(BUSINESS.ahead(thu, fri, 6)).isEqualTo(utc("2026-12-07T00:00"));
    // Friday to Monday is one business day: Monday's next event is Tuesday's.
    long mon = utc("2026-11-30T00:00");
    assertThat(BUSINESS.ahead(fri, mon, 1)).isEqualTo(utc("2026-12-01T00:00"));
    assertThat(BUSINESS.ahead(fri, mon, 5)).isEqualTo(utc("2026-12-07T00:00"));
  }

  @Test
  void shouldNeverLandOnASaturdayOrSundayFromAnyWeekdayAndInterval() {
    for (int day = 0; day < 14; day++) {
      for (int hours : new int[] {1, 4, 24, 48}) {
        long time = utc("2026-11-02T16:00") + day * 86_400_000L;
        long previous = time - hours * 3_600_000L;
        for (int steps = 1; steps <= 30; steps++) {
          long t = BUSINESS.ahead(previous, time, steps);
          if (t == SeriesCalendar.UNKNOWN) {
            continue;
          }
          int weekday =
              LocalDateTime.ofEpochSecond(t / 1000, 0, ZoneOffset.UTC).getDayOfWeek().getValue();
          assertThat(weekday).as("%d steps from day %d every %dh", steps, day, hours).isLessThan(6);
          assertThat(t).isGreaterThan(time);
        }
      }
    }
  }

  @Test
  void shouldKeepTheLocalTimeAcrossADaylightSavingChange() {
    SeriesCalendar ny = SeriesCalendar.of(TimeCalendar.BUSINESS_DAYS, NEW_YORK);
    // US DST ended on Sunday 2026-11-01: Friday 16:00 EDT to Monday 16:00 EST.
    long thu = at("2026-10-29T16:00", NEW_YORK);
    long fri = at("2026-10-30T16:00", NEW_YORK);
    assertThat(ny.ahead(thu, fri, 1)).isEqualTo(at("2026-11-02T16:00", NEW_YORK));
  }

  @Test
  void shouldStepContinuouslyByTheLastIntervalAndKnowNoIntervalBeforeTheSecondEvent() {
    SeriesCalendar all = SeriesCalendar.of(TimeCalendar.CONTINUOUS, UTC);
    long thu = utc("2026-11-26T00:00");
    long fri = utc("2026-11-27T00:00");
    assertThat(all.ahead(thu, fri, 1)).isEqualTo(utc("2026-11-28T00:00"));
    assertThat(all.ahead(thu, fri, 24)).isEqualTo(fri + 24 * 86_400_000L);
    assertThat(all.ahead(fri, fri, 1)).isEqualTo(SeriesCalendar.UNKNOWN);
    // Two events on one weekend have no business interval between them.
    assertThat(BUSINESS.ahead(utc("2026-11-28T10:00"), utc("2026-11-29T10:00"), 1))
        .isEqualTo(SeriesCalendar.UNKNOWN);
  }

  private static SeriesCalendar withHolidays(ZoneId zone, String... dates) {
    List<LocalDate> days = new ArrayList<>();
    for (String d : dates) {
      days.add(LocalDate.parse(d));
    }
    return SeriesCalendar.of(TimeCalendar.BUSINESS_DAYS, zone, days);
  }

  @Test
  void shouldSkipAHolidayOnAFridayAndTheWeekendAfterIt() {
    // Friday 2026-12-25 is a holiday: Thursday's next daily event is Monday's.
    SeriesCalendar cal = withHolidays(UTC, "2026-12-25");
    long wed = utc("2026-12-23T16:00");
    long thu = utc("2026-12-24T16:00");
    assertThat(cal.ahead(wed, thu, 1)).isEqualTo(utc("2026-12-28T16:00"));
    assertThat(cal.ahead(wed, thu, 2)).isEqualTo(utc("2026-12-29T16:00"));
    assertThat(cal.ahead(wed, thu, 5)).isEqualTo(utc("2027-01-01T16:00"));
    // Thursday to Monday over the holiday and the weekend is one business day.
    long mon = utc("2026-12-28T16:00");
    assertThat(cal.ahead(thu, mon, 1)).isEqualTo(utc("2026-12-29T16:00"));
    // Without the holiday the same Thursday steps to Friday.
    assertThat(BUSINESS.ahead(wed, thu, 1)).isEqualTo(utc("2026-12-25T16:00"));
  }

  @Test
  void shouldSkipARunOfHolidaysAcrossAWeekendAndTheYearsEnd() {
    // Thu 12-24, Fri 12-25, Mon 12-28 and Fri 2027-01-01 off; Sat 12-26 listed too (no effect).
    SeriesCalendar cal =
        withHolidays(UTC, "2026-12-28", "2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01");
    long tue = utc("2026-12-22T09:30");
    long wed = utc("2026-12-23T09:30");
    assertThat(cal.ahead(tue, wed, 1)).isEqualTo(utc("2026-12-29T09:30"));
    assertThat(cal.ahead(tue, wed, 2)).isEqualTo(utc("2026-12-30T09:30"));
    assertThat(cal.ahead(tue, wed, 3)).isEqualTo(utc("2026-12-31T09:30"));
    assertThat(cal.ahead(tue, wed, 4)).isEqualTo(utc("2027-01-04T09:30"));
    // Weekly steps (five business days) count the holidays out too.
    long weekBefore = utc("2026-12-16T09:30");
    assertThat(cal.ahead(weekBefore, wed, 1)).isEqualTo(utc("2027-01-05T09:30"));
  }

  @Test
  void shouldCountAnEventOnAHolidayAsTheNextBusinessDaysStart() {
    SeriesCalendar cal = withHolidays(UTC, "2026-11-26");
    // An hourly series that runs through Thanksgiving (Thursday 2026-11-26).
    long wed = utc("2026-11-25T23:00");
    long holiday = utc("2026-11-26T10:00");
    // Both map to Friday: the 11 h before Friday 00:00 are one hour of Wednesday.
    assertThat(cal.ahead(wed, holiday, 1)).isEqualTo(utc("2026-11-27T01:00"));
    assertThat(cal.ahead(holiday, utc("2026-11-26T11:00"), 1))
        .as("two events on one holiday have no business interval")
        .isEqualTo(SeriesCalendar.UNKNOWN);
  }

  @Test
  void shouldKeepTheLocalTimeOverAHolidayInTheSeriesZone() {
    // New York: Friday 2026-07-03 is the observed Independence Day.
    SeriesCalendar ny = withHolidays(NEW_YORK, "2026-07-03");
    long wed = at("2026-07-01T16:00", NEW_YORK);
    long thu = at("2026-07-02T16:00", NEW_YORK);
    assertThat(ny.ahead(wed, thu, 1)).isEqualTo(at("2026-07-06T16:00", NEW_YORK));
    // 16:00 in New York is 20:00 UTC on Thursday 07-02; in UTC the holiday would start later.
    assertThat(thu).isEqualTo(utc("2026-07-02T20:00"));
  }

  @Test
  void shouldIgnoreHolidaysOnAContinuousCalendar() {
    SeriesCalendar all =
        SeriesCalendar.of(TimeCalendar.CONTINUOUS, UTC, List.of(LocalDate.parse("2026-12-25")));
    assertThat(all.ahead(utc("2026-12-23T00:00"), utc("2026-12-24T00:00"), 1))
        .isEqualTo(utc("2026-12-25T00:00"));
  }

  /**
   * Against a day-by-day walk with java.time over random holiday sets: every step of a daily series
   * (one or two business days per interval) lands on the business day the walk finds.
   */
  @Test
  void shouldAgreeWithADayByDayWalkOverRandomHolidays() {
    Random random = new Random(20261225);
    LocalDate first = LocalDate.parse("2026-11-02");
    for (int round = 0; round < 40; round++) {
      Set<LocalDate> off = new TreeSet<>();
      int count = random.nextInt(25);
      for (int i = 0; i < count; i++) {
        LocalDate d = first.plusDays(random.nextInt(120));
        off.add(d);
        if (random.nextBoolean()) {
          off.add(d.plusDays(1)); // runs of two or more
        }
      }
      ZoneId zone = round % 2 == 0 ? UTC : NEW_YORK;
      SeriesCalendar cal = SeriesCalendar.of(TimeCalendar.BUSINESS_DAYS, zone, off);
      LocalTime clock = LocalTime.of(random.nextInt(24), 15);
      LocalDate day = nextOpen(first.plusDays(random.nextInt(40)).minusDays(1), off);
      int every = 1 + random.nextInt(2);
      LocalDate previous = day;
      for (int i = 0; i < every; i++) {
        previous = previousOpen(previous, off);
      }
      long time = day.atTime(clock).atZone(zone).toInstant().toEpochMilli();
      long before = previous.atTime(clock).atZone(zone).toInstant().toEpochMilli();
      LocalDate expected = day;
      for (int steps = 1; steps <= 30; steps++) {
        for (int i = 0; i < every; i++) {
          expected = nextOpen(expected, off);
        }
        assertThat(cal.ahead(before, time, steps))
            .as(
                "round %d: %d steps of %d business days from %s, holidays %s",
                round, steps, every, day, off)
            .isEqualTo(expected.atTime(clock).atZone(zone).toInstant().toEpochMilli());
      }
    }
  }

  @Test
  void shouldGiveSeveralStepCountsAtOnceWhatEachGivesAlone() {
    int[] steps = {1, 2, 5, 24};
    long[] out = new long[2 + steps.length];
    SeriesCalendar holidays = withHolidays(NEW_YORK, "2026-12-25", "2027-01-01");
    SeriesCalendar continuous = SeriesCalendar.of(TimeCalendar.CONTINUOUS, NEW_YORK);
    for (SeriesCalendar cal : List.of(holidays, BUSINESS, continuous)) {
      long time = at("2026-12-24T16:00", NEW_YORK);
      for (long previous :
          new long[] {
            at("2026-12-23T16:00", NEW_YORK),
            time - 3_600_000L,
            time,
            time + 1,
            time - 3 * 86_400_000L
          }) {
        cal.ahead(previous, time, steps, out, 2);
        for (int k = 0; k < steps.length; k++) {
          assertThat(out[2 + k]).isEqualTo(cal.ahead(previous, time, steps[k]));
        }
      }
      // Two events on one weekend: no business interval, as one at a time.
      cal.ahead(utc("2026-11-28T10:00"), utc("2026-11-29T10:00"), steps, out, 0);
      assertThat(out[0]).isEqualTo(cal.ahead(utc("2026-11-28T10:00"), utc("2026-11-29T10:00"), 1));
    }
  }

  private static boolean open(LocalDate d, Set<LocalDate> off) {
    return d.getDayOfWeek() != DayOfWeek.SATURDAY
        && d.getDayOfWeek() != DayOfWeek.SUNDAY
        && !off.contains(d);
  }

  private static LocalDate nextOpen(LocalDate d, Set<LocalDate> off) {
    LocalDate n = d.plusDays(1);
    while (!open(n, off)) {
      n = n.plusDays(1);
    }
    return n;
  }

  private static LocalDate previousOpen(LocalDate d, Set<LocalDate> off) {
    LocalDate n = d.minusDays(1);
    while (!open(n, off)) {
      n = n.minusDays(1);
    }
    return n;
  }
}
