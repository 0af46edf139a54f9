package io.stepcast.features;

import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.TimeCalendar;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A series' own time axis, which the times of forecasts several events ahead follow (the horizons
 * of the forecast record and the state API's rolled forecast): one step is the series' last
 * interval, measured and advanced on this axis.
 *
 * <p>{@code continuous}: every instant counts, so a daily series stepped from a Friday lands on
 * Saturday. {@code business_days}: Saturdays and Sundays (local time in {@code timestamp.zone}) do
 * not exist, nor the days listed in {@code timestamp.holidays}; the interval from a Friday to the
 * Monday after is one day, and one day after Friday is Monday (Tuesday when Monday is a holiday),
 * at the same local time. An instant on a weekend or a holiday counts as 00:00 of the next business
 * day. Pure and thread-safe; the holidays are sorted once, and each lookup is a binary search.
 */
public final class SeriesCalendar {
  /** No time: the series has no interval yet. */
  public static final long UNKNOWN = Long.MIN_VALUE;

  private static final long DAY = 86_400_000L;

  private final boolean businessDays;
  private final ZoneId zone;

  /** Weekday index (Mondays to Fridays counted from 1969-12-29) of each holiday, ascending. */
  private final long[] holidays;

  /**
   * {@code holidays[j] - j}: the business day each holiday would have been, non-decreasing; a
   * business day {@code b} is the weekday {@code b} plus the holidays whose value is at most {@code
   * b}.
   */
  private final long[] shifted;

  private SeriesCalendar(boolean businessDays, ZoneId zone, Collection<LocalDate> holidays) {
    this.businessDays = businessDays;
    this.zone = zone;
    this.holidays =
        holidays.stream()
            .mapToLong(LocalDate::toEpochDay)
            .filter(d -> weekday(d) < 5)
            .map(SeriesCalendar::weekdayIndex)
            .sorted()
            .distinct()
            .toArray();
    this.shifted = new long[this.holidays.length];
    for (int j = 0; j < shifted.length; j++) {
      shifted[j] = this.holidays[j] - j;
    }
  }

  /**
   * The calendar of a pipeline ({@code timestamp.calendar} in {@code timestamp.zone}, with {@code
   * timestamp.holidays}).
   *
   * @throws java.time.DateTimeException when a holiday is not an ISO date (the spec's validation
   *     refuses that before)
   */
  public static SeriesCalendar of(TopologySpec spec) {
    TopologySpec.Timestamp ts = spec.timestamp();
    List<LocalDate> days = new ArrayList<>();
    if (ts.holidays() != null) {
      for (String d : ts.holidays()) {
        days.add(LocalDate.parse(d));
      }
    }
    return new SeriesCalendar(
        ts.calendar() == TimeCalendar.BUSINESS_DAYS, ZoneId.of(ts.zone()), days);
  }

  /** A calendar without holidays (tests, tools). */
  public static SeriesCalendar of(TimeCalendar calendar, ZoneId zone) {
    return of(calendar, zone, List.of());
  }

  /** A calendar with holidays (ignored on a continuous calendar). */
  public static SeriesCalendar of(
      TimeCalendar calendar, ZoneId zone, Collection<LocalDate> holidays) {
    boolean business = calendar == TimeCalendar.BUSINESS_DAYS;
    return new SeriesCalendar(business, zone, business ? holidays : List.of());
  }

  /** Whether weekends (and holidays) are left out. */
  public boolean businessDays() {
    return businessDays;
  }

  /**
   * The time {@code steps} intervals after {@code time}, an interval being the one from {@code
   * previous} to {@code time} on this calendar; {@link #UNKNOWN} when there is no interval ({@code
   * previous} not before {@code time}, or the interval is empty on this calendar).
   */
  public long ahead(long previous, long time, long steps) {
    long t = axis(time);
    long interval = previous >= time ? 0 : t - axis(previous);
    return interval <= 0 ? UNKNOWN : instant(t + steps * interval);
  }

  /**
   * {@link #ahead(long, long, long)} for several step counts at once, into {@code out[offset + k]}
   * for {@code steps[k]}: the interval is measured once (the live path's horizons, per event).
   */
  public void ahead(long previous, long time, int[] steps, long[] out, int offset) {
    long t = axis(time);
    long interval = previous >= time ? 0 : t - axis(previous);
    for (int k = 0; k < steps.length; k++) {
      out[offset + k] = interval <= 0 ? UNKNOWN : instant(t + steps[k] * interval);
    }
  }

  /** An instant on this calendar's axis: itself, or its business time. */
  private long axis(long instant) {
    return businessDays ? business(instant) : instant;
  }

  /** The instant of a point on this calendar's axis. */
  private long instant(long axis) {
    return businessDays ? fromBusiness(axis) : axis;
  }

  /** 0 for Monday to 6 for Sunday, of a day counted from 1970-01-01 (a Thursday). */
  private static int weekday(long epochDay) {
    return Math.floorMod(epochDay + 3, 7);
  }

  /** Mondays to Fridays from Monday 1969-12-29 to a weekday (a Saturday or Sunday: next Monday). */
  private static long weekdayIndex(long epochDay) {
    long sinceMonday = epochDay + 3;
    int weekday = weekday(epochDay);
    return Math.floorDiv(sinceMonday, 7) * 5 + Math.min(weekday, 5);
  }

  /** How many of the sorted {@code values} are below {@code key} ({@code orEqual}: at most it). */
  private static int countBelow(long[] values, long key, boolean orEqual) {
    int lo = 0;
    int hi = values.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (values[mid] < key || orEqual && values[mid] == key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * Business time of an instant: local milliseconds with every Saturday, Sunday and holiday cut out
   * (an instant on one of them maps to 00:00 of the next business day).
   */
  long business(long instant) {
    long local =
        instant
            + zone.getRules().getOffset(Instant.ofEpochMilli(instant)).getTotalSeconds() * 1000L;
    long day = Math.floorDiv(local, DAY);
    long index = weekdayIndex(day);
    long timeOfDay = weekday(day) >= 5 ? 0 : Math.floorMod(local, DAY);
    int before = countBelow(holidays, index, false);
    if (before < holidays.length && holidays[before] == index) {
      timeOfDay = 0;
    }
    return (index - before) * DAY + timeOfDay;
  }

  /** The instant of a business time (its local time in the calendar's zone). */
  long fromBusiness(long business) {
    long businessDay = Math.floorDiv(business, DAY);
    long index = businessDay + countBelow(shifted, businessDay, true);
    long weeks = Math.floorDiv(index, 5);
    long weekday = Math.floorMod(index, 5);
    long local = (weeks * 7 + weekday - 3) * DAY + Math.floorMod(business, DAY);
    LocalDateTime wall =
        LocalDateTime.ofEpochSecond(Math.floorDiv(local, 1000L), 0, ZoneOffset.UTC)
            .plusNanos(Math.floorMod(local, 1000L) * 1_000_000L);
    return wall.atZone(zone).toInstant().toEpochMilli();
  }
}
