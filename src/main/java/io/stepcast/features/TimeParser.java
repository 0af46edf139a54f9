package io.stepcast.features;

import io.stepcast.config.TopologySpec;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.TemporalAccessor;
import java.util.Locale;

/** Reads event times written as ISO-8601, epoch milliseconds or a spec-given pattern. */
public final class TimeParser {
  private final TopologySpec.TimestampFormat format;
  private final ZoneId zone;
  private final DateTimeFormatter pattern;

  public TimeParser(TopologySpec.Timestamp spec) {
    this.format = spec.format();
    this.zone = ZoneId.of(spec.zone());
    this.pattern =
        spec.pattern() == null ? null : DateTimeFormatter.ofPattern(spec.pattern(), Locale.ROOT);
  }

  /** The zone used for local times and calendar features. */
  public ZoneId zone() {
    return zone;
  }

  /**
   * Parses text. Returns epoch milliseconds.
   *
   * @throws DateTimeParseException if it cannot be read
   */
  public long parse(String text) {
    switch (format) {
      case EPOCH_MILLIS:
        try {
          return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
          throw new DateTimeParseException("not epoch milliseconds", text, 0);
        }
      case PATTERN:
        TemporalAccessor t =
            pattern.parseBest(text, ZonedDateTime::from, LocalDateTime::from, LocalDate::from);
        return toMillis(t);
      case ISO:
      default:
        return parseIso(text);
    }
  }

  /**
   * Epoch milliseconds given as a JSON number (valid for every format: a number is epoch millis).
   */
  public long fromNumber(double millis) {
    return (long) millis;
  }

  private long parseIso(String text) {
    int len = text.length();
    if (len > 10) {
      char last = text.charAt(len - 1);
      if (last == 'Z' || last == 'z') {
        return Instant.parse(text).toEpochMilli();
      }
      if (hasOffset(text)) {
        return OffsetDateTime.parse(text).toInstant().toEpochMilli();
      }
      return LocalDateTime.parse(text).atZone(zone).toInstant().toEpochMilli();
    }
    return LocalDate.parse(text).atStartOfDay(zone).toInstant().toEpochMilli();
  }

  private static boolean hasOffset(String text) {
    int t = text.indexOf('T');
    if (t < 0) {
      return false;
    }
    for (int i = t + 1; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '+' || c == '-') {
        return true;
      }
    }
    return false;
  }

  private long toMillis(TemporalAccessor t) {
    if (t instanceof ZonedDateTime z) {
      return z.toInstant().toEpochMilli();
    }
    if (t instanceof LocalDateTime l) {
      return l.atZone(zone).toInstant().toEpochMilli();
    }
    return ((LocalDate) t).atStartOfDay(zone).toInstant().toEpochMilli();
  }
}
