package io.stepcast.features;

import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.TimeCalendar;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A series' own time axis, which the times of forecasts several events ahead follow (the horizons
 * of the forecast record and the state API's rolled forecast): one step is the series' last
 * interval, measured and advanced on this axis.
 *
 * <p>{@code continuous}: every instant counts, so a daily series stepped from a Friday lands on
 * Saturday. {@code business_days}: Saturdays and Sundays (local time in {@code timestamp.zone}) do
 * not exist; the interval from a Friday to the Monday after is one day, and one day after Friday is
 * Monday, at the same local time. An instant on a weekend counts as the Monday 00:00 after it.
 * Holidays are not known. Pure and thread-safe.
 */
public final class SeriesCalendar {
  /** No time: the series has no interval yet. */
  public static final long UNKNOWN = Long.MIN_VALUE;

  private static final long DAY = 86_400_000L;

  private final boolean businessDays;
  private final ZoneId zone;

  private SeriesCalendar(boolean businessDays, ZoneId zone) {
    this.businessDays = businessDays;
    this.zone = zone;
  }

  /** The calendar of a pipeline ({@code timestamp.calendar} in {@code timestamp.zone}). */
  public static SeriesCalendar of(TopologySpec spec) {
    return new SeriesCalendar(
        spec.timestamp().calendar() == TimeCalendar.BUSINESS_DAYS,
        ZoneId.of(spec.timestamp().zone()));
  }

  /** A calendar (tests, tools). */
  public static SeriesCalendar of(TimeCalendar calendar, ZoneId zone) {
    return new SeriesCalendar(calendar == TimeCalendar.BUSINESS_DAYS, zone);
  }

  /** Whether weekends are left out. */
  public boolean businessDays() {
    return businessDays;
  }

  /**
   * The time {@code steps} intervals after {@code time}, an interval being the one from {@code
   * previous} to {@code time} on this calendar; {@link #UNKNOWN} when there is no interval ({@code
   * previous} not before {@code time}, or the interval is empty on this calendar).
   */
  public long ahead(long previous, long time, long steps) {
    if (previous >= time) {
      return UNKNOWN;
    }
    if (!businessDays) {
      return time + steps * (time - previous);
    }
    long t = business(time);
    long interval = t - business(previous);
    if (interval <= 0) {
      return UNKNOWN;
    }
    return fromBusiness(t + steps * interval);
  }

  /**
   * Business time of an instant: local milliseconds with every Saturday and Sunday cut out (an
   * instant on a weekend maps to the Monday 00:00 after it).
   */
  long business(long instant) {
    long local =
        instant
            + zone.getRules().getOffset(Instant.ofEpochMilli(instant)).getTotalSeconds() * 1000L;
    long day = Math.floorDiv(local, DAY);
    // 1970-01-01 was a Thursday: days since Monday 1969-12-29 give the week and the weekday.
    long sinceMonday = day + 3;
    long weeks = Math.floorDiv(sinceMonday, 7);
    int weekday = (int) Math.floorMod(sinceMonday, 7);
    if (weekday >= 5) {
      return (weeks * 5 + 5) * DAY;
    }
    return (weeks * 5 + weekday) * DAY + Math.floorMod(local, DAY);
  }

  /** The instant of a business time (its local time in the calendar's zone). */
  long fromBusiness(long business) {
    long businessDay = Math.floorDiv(business, DAY);
    long weeks = Math.floorDiv(businessDay, 5);
    long weekday = Math.floorMod(businessDay, 5);
    long local = (weeks * 7 + weekday - 3) * DAY + Math.floorMod(business, DAY);
    LocalDateTime wall =
        LocalDateTime.ofEpochSecond(Math.floorDiv(local, 1000L), 0, ZoneOffset.UTC)
            .plusNanos(Math.floorMod(local, 1000L) * 1_000_000L);
    return wall.atZone(zone).toInstant().toEpochMilli();
  }
}
