package io.stepcast.config;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What values a setting accepts, like Kafka's {@code ConfigDef.Validator}: it checks a bound value
 * and describes the accepted values for the generated documentation. Factories for the common kinds
 * are below.
 */
public interface Validator {
  /** Accepts anything of the setting's type. */
  Validator ANY = of("", v -> null);

  /**
   * Checks a value (never null: required settings are checked before).
   *
   * @return null when the value is valid, otherwise what is wrong and the fix
   */
  Problem check(Object value);

  /** The accepted values for the documentation, e.g. {@code 1..256}; empty when any value goes. */
  String describe();

  /** What is wrong with a value and how to fix it. */
  record Problem(String problem, String fix) {}

  /** A function that returns a {@link Problem} or null. */
  @FunctionalInterface
  interface Check {
    /** The problem with {@code value}, or null. */
    Problem check(Object value);
  }

  /** A validator from a description and a check. */
  static Validator of(String describe, Check check) {
    return new Validator() {
      @Override
      public Problem check(Object value) {
        return check.check(value);
      }

      @Override
      public String describe() {
        return describe;
      }
    };
  }

  /** An integer from {@code min} to {@code max}, both included; {@code example} goes in the fix. */
  static Validator between(long min, long max, String example) {
    return of(
        max == Long.MAX_VALUE ? "≥ " + min : min + ".." + max,
        v -> {
          long x = ((Number) v).longValue();
          if (x >= min && x <= max) {
            return null;
          }
          return new Problem(
              "is "
                  + x
                  + ", must be "
                  + (max == Long.MAX_VALUE ? "at least " + min : "from " + min + " to " + max),
              "set a value in that range, e.g. " + example);
        });
  }

  /** An integer of at least {@code min}. */
  static Validator atLeast(long min, String example) {
    return between(min, Long.MAX_VALUE, example);
  }

  /**
   * A finite number in an interval; {@code minOpen}/{@code maxOpen} exclude the bound.
   *
   * @param example a valid value for the fix
   */
  static Validator interval(
      double min, boolean minOpen, double max, boolean maxOpen, String example) {
    String text =
        (minOpen ? "(" : "[")
            + fmt(min)
            + ", "
            + (Double.isInfinite(max) ? "∞" : fmt(max))
            + (maxOpen ? ")" : "]");
    return of(
        text,
        v -> {
          double x = ((Number) v).doubleValue();
          boolean ok =
              Double.isFinite(x)
                  && (minOpen ? x > min : x >= min)
                  && (maxOpen ? x < max : x <= max);
          return ok ? null : new Problem("is " + x + ", must be in " + text, "set e.g. " + example);
        });
  }

  /** One of the given words, ignoring case. */
  static Validator oneOf(String... words) {
    List<String> allowed = List.of(words);
    return of(
        String.join(", ", allowed),
        v -> {
          String s = v.toString();
          if (allowed.contains(s.toLowerCase(Locale.ROOT))) {
            return null;
          }
          String hint = Names.nearest(s, allowed).map(n -> "'" + n + "' or ").orElse("");
          return new Problem(
              "'" + s + "' is not one of " + String.join(", ", allowed),
              "use " + hint + "one of " + String.join(", ", allowed));
        });
  }

  /** A string that matches {@code regex}; {@code what} says it in words for the fix. */
  static Validator matches(String regex, String describe, String what) {
    Pattern p = Pattern.compile(regex);
    return of(
        describe,
        v ->
            p.matcher(v.toString()).matches()
                ? null
                : new Problem("'" + v + "' is not valid", "use " + what));
  }

  /** A Kafka topic name. */
  static Validator topicName() {
    Pattern p = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
    return of(
        "topic name",
        v -> {
          String s = v.toString();
          return p.matcher(s).matches() && !s.equals(".") && !s.equals("..")
              ? null
              : new Problem(
                  "'" + s + "' is not a valid topic name",
                  "use letters, digits, '.', '_' and '-' (at most 249)");
        });
  }

  /** A string that is not blank. */
  static Validator notBlank(String example) {
    return of(
        "",
        v -> v.toString().isBlank() ? new Problem("is empty", "set it, e.g. " + example) : null);
  }

  /** A java.time zone id. */
  static Validator zone() {
    return of(
        "time zone id",
        v -> {
          try {
            ZoneId.of(v.toString());
            return null;
          } catch (RuntimeException e) {
            return new Problem(
                "'" + v + "' is not a time zone", "use e.g. UTC or America/Los_Angeles");
          }
        });
  }

  /** A {@link DateTimeFormatter} pattern. */
  static Validator dateTimePattern() {
    return of(
        "java.time pattern",
        v -> {
          try {
            DateTimeFormatter.ofPattern(v.toString(), Locale.ROOT);
            return null;
          } catch (IllegalArgumentException e) {
            return new Problem(
                "'" + v + "' is not a valid pattern: " + e.getMessage(),
                "use java.time.format.DateTimeFormatter pattern letters, e.g. 'MMM d yyyy'");
          }
        });
  }

  /** A finite number; {@code example} goes in the fix. */
  static Validator finite(String example) {
    return of(
        "finite number",
        v ->
            Double.isFinite(((Number) v).doubleValue())
                ? null
                : new Problem("is " + v + ", not a finite number", "set e.g. " + example));
  }

  /** An ISO-8601 instant ({@code 1900-01-01T00:00:00Z}) or date ({@code 1900-01-01}, UTC). */
  static Validator instantOrDate() {
    return of(
        "ISO-8601 instant or date",
        v -> {
          try {
            TopologySpec.Timestamp.toMillis(v.toString());
            return null;
          } catch (java.time.DateTimeException | ArithmeticException e) {
            return new Problem(
                "'" + v + "' is not an ISO-8601 instant or date",
                "write e.g. '1900-01-01T00:00:00Z'");
          }
        });
  }

  /** A non-negative ISO-8601 duration that fits in milliseconds. */
  static Validator isoDuration() {
    return of(
        "ISO-8601 duration ≥ 0",
        v -> {
          try {
            if (java.time.Duration.parse(v.toString()).toMillis() >= 0) {
              return null;
            }
          } catch (java.time.DateTimeException | ArithmeticException e) {
            // reported below
          }
          return new Problem(
              "'" + v + "' is not a non-negative ISO-8601 duration",
              "write e.g. P1D (one day) or PT6H (six hours)");
        });
  }

  /**
   * Prediction interval levels: at most {@value #MAX_LEVELS} distinct numbers strictly between 0
   * and 1, at most four decimals (the state keeps each level in ten-thousandths).
   */
  static Validator levels() {
    return of(
        "each in (0, 1), distinct, ≤ " + MAX_LEVELS,
        v -> {
          List<?> list = (List<?>) v;
          if (list.size() > MAX_LEVELS) {
            return new Problem(
                "has " + list.size() + " levels, at most " + MAX_LEVELS, "keep e.g. [0.8, 0.95]");
          }
          Set<Long> seen = new HashSet<>();
          for (Object o : list) {
            double x = o == null ? Double.NaN : ((Number) o).doubleValue();
            if (!(x > 0 && x < 1)) {
              return new Problem("level " + o + " is not between 0 and 1", "write e.g. 0.95");
            }
            long tenThousandths = Math.round(x * 10_000);
            if (Math.abs(tenThousandths - x * 10_000) > 1e-6
                || tenThousandths < 1
                || tenThousandths > 9_999) {
              return new Problem(
                  "level " + o + " has more than four decimals", "round it, e.g. 0.995");
            }
            if (!seen.add(tenThousandths)) {
              return new Problem("level " + o + " is repeated", "remove the duplicate");
            }
          }
          return null;
        });
  }

  /**
   * Holidays of a business-day calendar: at most {@value #MAX_HOLIDAYS} ISO dates ({@code
   * 2026-12-25}); a date may repeat (lists merged from several sources) and may fall on a weekend
   * (it is skipped anyway).
   */
  static Validator holidays() {
    return of(
        "ISO dates (yyyy-mm-dd), ≤ " + MAX_HOLIDAYS,
        v -> {
          List<?> list = (List<?>) v;
          if (list.size() > MAX_HOLIDAYS) {
            return new Problem(
                "has " + list.size() + " dates, at most " + MAX_HOLIDAYS,
                "list the holidays of the years the series forecast into");
          }
          for (int i = 0; i < list.size(); i++) {
            Object o = list.get(i);
            try {
              if (o == null || o.toString().length() != 10) {
                throw new java.time.DateTimeException("not yyyy-mm-dd");
              }
              java.time.LocalDate.parse(o.toString());
            } catch (java.time.DateTimeException e) {
              return new Problem(
                  "date "
                      + i
                      + " '"
                      + SafeText.of(String.valueOf(o))
                      + "' is not an ISO date (yyyy-mm-dd)",
                  "write e.g. '2026-12-25'");
            }
          }
          return null;
        });
  }

  /** The most holidays a spec may list (a century of ten a year). */
  int MAX_HOLIDAYS = 1000;

  /** The most prediction interval levels a spec may set. */
  int MAX_LEVELS = 8;

  private static String fmt(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }
}
