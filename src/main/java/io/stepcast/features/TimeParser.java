package io.stepcast.features;

import io.stepcast.config.TopologySpec;
import java.time.DateTimeException;
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

/**
 * Reads event times written as ISO-8601, epoch milliseconds or a spec-given pattern.
 *
 * <p>Every failure is a {@link DateTimeException}: a {@link DateTimeParseException} when the text
 * is not in the format, {@link OutOfRange} when it is a real date that epoch milliseconds cannot
 * hold (beyond about year 292,000,000, where {@code toEpochMilli} overflows). Nothing else escapes,
 * whatever the text.
 */
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
   * @throws OutOfRange if it is a date beyond the range of epoch milliseconds
   */
  public long parse(String text) {
    try {
      return parseUnchecked(text);
    } catch (ArithmeticException e) {
      throw new OutOfRange(text);
    } catch (DateTimeParseException | OutOfRange e) {
      throw e;
    } catch (DateTimeException e) {
      // Parsed, but not resolvable into an instant (a field out of range for the zone's rules).
      throw new OutOfRange(text);
    }
  }

  /** A date that parses but cannot be held in epoch milliseconds. */
  public static final class OutOfRange extends DateTimeException {
    private static final long serialVersionUID = 1L;

    OutOfRange(String text) {
      super("beyond the range of epoch milliseconds: " + text.length() + " chars");
    }
  }

  private long parseUnchecked(String text) {
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
