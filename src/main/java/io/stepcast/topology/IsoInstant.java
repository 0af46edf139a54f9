package io.stepcast.topology;

/**
 * Formats epoch milliseconds exactly as {@link java.time.Instant#toString()} does (ISO-8601 UTC,
 * milliseconds only when not zero) into a caller's buffer, without the objects and the string that
 * {@code Instant.toString()} makes per call.
 */
final class IsoInstant {
  private static final long DAY_MS = 86_400_000L;

  private IsoInstant() {}

  /**
   * Writes the instant into {@code out} (at least 24 chars) and returns its length, or -1 for a
   * year outside 0000..9999 (which {@code Instant.toString()} writes with a sign or more digits).
   */
  static int format(long epochMillis, char[] out) {
    long days = Math.floorDiv(epochMillis, DAY_MS);
    int msOfDay = (int) Math.floorMod(epochMillis, DAY_MS);
    // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil, inverted).
    long z = days + 719_468;
    long era = Math.floorDiv(z, 146_097);
    long doe = z - era * 146_097;
    long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    int day = (int) (doy - (153 * mp + 2) / 5 + 1);
    int month = (int) (mp < 10 ? mp + 3 : mp - 9);
    long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    if (year < 0 || year > 9999) {
      return -1;
    }
    int y = (int) year;
    out[0] = digit(y / 1000);
    out[1] = digit(y / 100 % 10);
    out[2] = digit(y / 10 % 10);
    out[3] = digit(y % 10);
    out[4] = '-';
    two(out, 5, month);
    out[7] = '-';
    two(out, 8, day);
    out[10] = 'T';
    int secs = msOfDay / 1000;
    two(out, 11, secs / 3600);
    out[13] = ':';
    two(out, 14, secs / 60 % 60);
    out[16] = ':';
    two(out, 17, secs % 60);
    int ms = msOfDay % 1000;
    int n = 19;
    if (ms != 0) {
      out[n++] = '.';
      out[n++] = digit(ms / 100);
      out[n++] = digit(ms / 10 % 10);
      out[n++] = digit(ms % 10);
    }
    out[n++] = 'Z';
    return n;
  }

  private static void two(char[] out, int at, int v) {
    out[at] = digit(v / 10);
    out[at + 1] = digit(v % 10);
  }

  private static char digit(int d) {
    return (char) ('0' + d);
  }
}
