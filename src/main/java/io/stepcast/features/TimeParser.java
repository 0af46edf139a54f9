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

  /** The zone's offset in seconds when it never changes (UTC, +02:00), else null. */
  private final Integer fixedOffset;

  /** Returned by {@link #parseAscii} for text it leaves to {@link #parse}. */
  static final long UNREAD = Long.MIN_VALUE;

  public TimeParser(TopologySpec.Timestamp spec) {
    this.format = spec.format();
    this.zone = ZoneId.of(spec.zone());
    this.fixedOffset =
        zone.getRules().isFixedOffset()
            ? zone.getRules().getOffset(Instant.EPOCH).getTotalSeconds()
            : null;
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

  /**
   * Reads the most common ISO-8601 form without allocating: {@code yyyy-MM-ddTHH:mm:ss}, an
   * optional fraction of 1 to 9 digits, then {@code Z} or nothing (a local time, when the spec's
   * zone has a fixed offset), from ASCII bytes. Returns what {@link #parse} returns for the same
   * text, or {@link #UNREAD} for any other text or format, which {@link #parse} then decides
   * (including every error).
   */
  long parseAscii(byte[] b, int off, int len) {
    if (format != TopologySpec.TimestampFormat.ISO || len < 19) {
      return UNREAD;
    }
    int y = digits(b, off, 4);
    int mo = digits(b, off + 5, 2);
    int d = digits(b, off + 8, 2);
    int h = digits(b, off + 11, 2);
    int mi = digits(b, off + 14, 2);
    int s = digits(b, off + 17, 2);
    if ((y | mo | d | h | mi | s) < 0
        || b[off + 4] != '-'
        || b[off + 7] != '-'
        || b[off + 10] != 'T'
        || b[off + 13] != ':'
        || b[off + 16] != ':') {
      return UNREAD;
    }
    int i = off + 19;
    int end = off + len;
    int nanos = 0;
    if (i < end && b[i] == '.') {
      i++;
      int n = 0;
      while (i < end && n < 9 && b[i] >= '0' && b[i] <= '9') {
        nanos = nanos * 10 + (b[i++] - '0');
        n++;
      }
      if (n == 0) {
        return UNREAD;
      }
      for (; n < 9; n++) {
        nanos *= 10;
      }
    }
    int offset;
    if (i == end && fixedOffset != null) {
      offset = fixedOffset;
    } else if (i == end - 1 && b[i] == 'Z') {
      offset = 0;
    } else {
      return UNREAD;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > lengthOfMonth(y, mo) || h > 23 || mi > 59 || s > 59) {
      return UNREAD;
    }
    long seconds = epochDay(y, mo, d) * 86_400L + h * 3600L + mi * 60L + s - offset;
    return seconds * 1000 + nanos / 1_000_000;
  }

  /** The value of {@code n} ASCII digits, or -1. */
  private static int digits(byte[] b, int off, int n) {
    int v = 0;
    for (int i = off; i < off + n; i++) {
      int c = b[i] - '0';
      if (c < 0 || c > 9) {
        return -1;
      }
      v = v * 10 + c;
    }
    return v;
  }

  private static int lengthOfMonth(int y, int m) {
    if (m == 2) {
      return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28;
    }
    return (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31;
  }

  /** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
  private static long epochDay(int year, int m, int d) {
    long y = m <= 2 ? year - 1 : year;
    long era = Math.floorDiv(y, 400);
    long yoe = y - era * 400;
    long doy = (153L * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146_097 + doe - 719_468;
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
