package io.stepcast.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.TopologySpec.TimeCalendar;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
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
}
