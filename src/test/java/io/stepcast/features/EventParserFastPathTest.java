package io.stepcast.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The parser's allocation-free fast path ({@link FlatEventScanner}, {@link TimeParser#parseAscii})
 * may change what an event costs, never its outcome: every value, valid, hostile or mutated, must
 * parse to the same result with the fast path as with the full parser alone.
 */
class EventParserFastPathTest {
  /** Within the weather spec's time window (1900 to a day past this clock). */
  private static final long NOW = Instant.parse("2030-01-01T00:00:00Z").toEpochMilli();

  @Test
  void shouldGiveTheFullParsersResultForValidHostileAndMutatedWeatherEvents() {
    TopologySpec spec = SpecFixtures.weather();
    for (TopologySpec.MissingPolicy policy : TopologySpec.MissingPolicy.values()) {
      TopologySpec s = SpecFixtures.withMissing(spec, policy);
      assertSameOutcomes(s, corpus(s, new Random(7), "pressure", "wind"), "s1");
    }
  }

  @Test
  void shouldGiveTheFullParsersResultWhenTheSeriesIdIsAField() {
    TopologySpec spec = SpecFixtures.stocks();
    List<String> values = corpus(spec, new Random(11));
    values.add("{\"symbol\":\"AAPL\",\"date\":\"Jan 1 2000\",\"price\":25.5}");
    values.add("{\"symbol\":\"\",\"date\":\"Jan 1 2000\",\"price\":25.5}");
    values.add("{\"symbol\":\"" + "x".repeat(257) + "\",\"date\":\"Jan 1 2000\",\"price\":1}");
    values.add("{\"symbol\":12,\"date\":\"Jan 1 2000\",\"price\":1}");
    values.add("{\"symbol\":null,\"date\":\"Jan 1 2000\",\"price\":1}");
    values.add("{\"symbol\":\"A\\u0041\",\"date\":\"Jan 1 2000\",\"price\":1}");
    values.add("{\"symbol\":\"\u00e9t\u00e9\",\"date\":\"Jan 1 2000\",\"price\":1}");
    assertSameOutcomes(spec, values, null);
  }

  @Test
  void shouldParseACommonEventWithoutAllocatingBeyondItsId() {
    TopologySpec spec = SpecFixtures.weather();
    EventParser parser = new EventParser(spec, () -> NOW);
    byte[] key = "station-17".getBytes(StandardCharsets.UTF_8);
    byte[][] values = {
      b("{\"date\":\"2010-01-01T01:00:00\",\"pressure\":1016.5,\"temperature\":4.25,\"wind\":3.5}"),
      b(
          "{\"date\":1577836800000,\"temperature\":11.561581040188955,\"pressure\":999.39181739,"
              + "\"wind\":48.9,\"station\":\"KSEA\",\"ok\":true,\"note\":null}")
    };
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    for (byte[] value : values) {
      assertThat(parser.parse(key, value).kind()).isEqualTo(ParseResult.Kind.EVENT);
      int n = 20_000;
      for (int i = 0; i < n; i++) {
        parser.parse(key, value);
      }
      long before = threads.getThreadAllocatedBytes(thread);
      for (int i = 0; i < n; i++) {
        parser.parse(key, value);
      }
      double perEvent = (threads.getThreadAllocatedBytes(thread) - before) / (double) n;
      // The series id string (about 48 bytes) is the one object an event needs; the full parser
      // allocated about 1,170 bytes per event (a parser, its context and symbol table, a
      // duplicate-name set, the key decoder's buffers).
      assertThat(perEvent)
          .as("bytes allocated per event for %s", new String(value))
          .isLessThan(100);
    }
  }

  @Test
  void shouldReadIsoTimesAsJavaTimeDoesOrLeaveThemToIt() {
    for (String zone : new String[] {"UTC", "+05:30", "Europe/Berlin"}) {
      TimeParser time =
          new TimeParser(
              new TopologySpec.Timestamp(
                  "date", TopologySpec.TimestampFormat.ISO, null, zone, null, null));
      Random random = new Random(zone.hashCode());
      List<String> texts = new ArrayList<>();
      for (int i = 0; i < 4000; i++) {
        String t =
            String.format(
                Locale.ROOT,
                "%04d-%02d-%02dT%02d:%02d:%02d",
                random.nextInt(10_000),
                random.nextInt(14),
                random.nextInt(33),
                random.nextInt(26),
                random.nextInt(62),
                random.nextInt(62));
        String fraction = "." + "123456789012".substring(0, random.nextInt(12));
        texts.add(t);
        texts.add(t + "Z");
        texts.add(t + fraction);
        texts.add(t + fraction + "Z");
        texts.add(t + "+01:00");
        texts.add(t.replace('T', 't'));
      }
      texts.addAll(
          List.of(
              "2024-02-29T12:00:00Z",
              "2023-02-29T12:00:00Z",
              "1900-02-29T00:00:00",
              "2000-02-29T00:00:00",
              "2010-04-31T00:00:00",
              "2010-01-01T24:00:00",
              "2010-12-31T23:59:60Z",
              "2010-01-01T00:00",
              "2010-01-01",
              "1969-12-31T23:59:59.999Z",
              "0000-01-01T00:00:00Z",
              "2010-01-01T00:00:00.Z",
              "2010-01-01T00:00:00ZZ",
              "2010-01-01 00:00:00"));
      int read = 0;
      for (String text : texts) {
        byte[] bytes = b(" " + text + " ");
        long fast = time.parseAscii(bytes, 1, bytes.length - 2);
        Long full;
        try {
          full = time.parse(text);
        } catch (DateTimeException e) {
          full = null;
        }
        if (fast != TimeParser.UNREAD) {
          read++;
          assertThat(full).as("%s in %s", text, zone).isEqualTo(fast);
        }
      }
      assertThat(read).as("texts read by the fast path in %s", zone).isGreaterThan(2000);
    }
  }

  private static void assertSameOutcomes(TopologySpec spec, List<String> values, String key) {
    EventParser fast = new EventParser(spec, () -> NOW);
    EventParser full = new EventParser(spec, () -> NOW, false);
    byte[] k = key == null ? null : b(key);
    for (String v : values) {
      byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
      String expected = describe(full.parse(k, bytes));
      assertThat(describe(fast.parse(k, bytes))).as(v).isEqualTo(expected);
    }
  }

  private static String describe(ParseResult r) {
    if (r.kind() != ParseResult.Kind.EVENT) {
      return r.kind() + " " + r.reason() + " " + r.message();
    }
    Event e = r.event();
    return "EVENT "
        + e.seriesId()
        + " "
        + e.timeMillis()
        + " "
        + Double.doubleToRawLongBits(e.target())
        + " "
        + Arrays.toString(
            Arrays.stream(e.fields()).mapToLong(Double::doubleToRawLongBits).toArray());
  }

  /** Valid events in many spellings, hostile ones, and random mutations of both. */
  private static List<String> corpus(TopologySpec spec, Random random, String... inputs) {
    String time = spec.timestamp().field();
    String target = spec.target().field();
    String id = spec.seriesId().field();
    String[] numbers = {
      "0",
      "-0",
      "1",
      "-17",
      "4.25",
      "1016.5",
      "3.5e1",
      "3.5E+1",
      "35e-1",
      "0.1e1",
      "1e400",
      "-1e400",
      "1e-400",
      "4e38",
      "3.4028235e38",
      "123456789012345678901234567890",
      "01",
      "1.",
      ".5",
      "+1",
      "-",
      "1e",
      "1e+",
      "NaN",
      "Infinity",
      "-Infinity",
      "\"4.5\"",
      "\"NaN\"",
      "true",
      "null",
      "[1]",
      "{\"a\":1}",
      "0.000000000000000000000000000001",
      "99999999999999999999e-18",
      "11.561581040188955",
      "2.2250738585072014E-308",
      "1" + "0".repeat(70)
    };
    String[] times = {
      "\"2010-01-01T01:00:00\"",
      "\"2010-01-01T01:00:00Z\"",
      "\"2010-01-01T01:00:00.5Z\"",
      "\"2010-01-01T01:00:00+02:00\"",
      "\"2010-01-01\"",
      "\"2010-02-30T00:00:00\"",
      "\"Jan 1 2000\"",
      "\"Feb 30 2000\"",
      "1262307600000",
      "-1000",
      "1262307600000.5",
      "99999999999999999999",
      "999999999999999999",
      "null",
      "\"\"",
      "true",
      "\"2010-01-01T01:00:00\\u005A\""
    };
    String[] extras = {
      "\"station\":\"KSEA\"",
      "\"ok\":true",
      "\"ok\":false",
      "\"note\":null",
      "\"nested\":{\"a\":[1,2,{\"b\":null}]}",
      "\"list\":[]",
      "\"esc\":\"a\\\"b\\\\c\\n\"",
      "\"uni\":\"\u00e9\u4e2d\"",
      "\"big\":1e999",
      "\"tab\":\"a\tb\""
    };
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 1500; i++) {
      List<String> fields = new ArrayList<>();
      if (id != null && random.nextInt(10) > 0) {
        fields.add(q(id) + ":\"S" + random.nextInt(5) + "\"");
      }
      if (random.nextInt(12) > 0) {
        fields.add(q(time) + ":" + times[random.nextInt(times.length)]);
      }
      if (random.nextInt(12) > 0) {
        fields.add(q(target) + ":" + pick(random, numbers, centre(spec, target)));
      }
      for (String in : inputs) {
        if (random.nextInt(10) > 0) {
          fields.add(q(in) + ":" + pick(random, numbers, centre(spec, in)));
        }
      }
      for (int x = random.nextInt(3); x > 0; x--) {
        fields.add(extras[random.nextInt(extras.length)]);
      }
      if (random.nextInt(15) == 0 && !fields.isEmpty()) {
        fields.add(fields.get(random.nextInt(fields.size()))); // a repeated name
      }
      java.util.Collections.shuffle(fields, random);
      String sep = random.nextInt(4) == 0 ? " ,\n\t" : ",";
      String v = (random.nextInt(5) == 0 ? " {\r\n" : "{") + String.join(sep, fields) + "}";
      if (random.nextInt(20) == 0) {
        v += random.nextBoolean() ? " x" : "  \n";
      }
      out.add(v);
      out.add(mutate(v, random));
    }
    out.addAll(
        List.of(
            "",
            "{}",
            "[]",
            "{",
            "}",
            "null",
            "\ufeff{\"" + time + "\":1262307600000,\"" + target + "\":1}",
            "{\"" + time + "\":1262307600000,\"" + target + "\":1,}",
            "{\"" + time + "\":1262307600000 \"" + target + "\":1}",
            "{\"" + time + "\" 1262307600000}",
            "{" + "\"f\":1,".repeat(40) + "\"" + target + "\":1}"));
    return out;
  }

  /** Mostly numbers well within every range, sometimes a hostile spelling. */
  private static String pick(Random random, String[] hostile, double centre) {
    if (random.nextInt(3) > 0) {
      return String.format(Locale.ROOT, "%.6f", centre + random.nextGaussian() * 5);
    }
    return hostile[random.nextInt(hostile.length)];
  }

  /** The middle of a field's range in the spec (20 without one). */
  private static double centre(TopologySpec spec, String field) {
    Double min = null;
    Double max = null;
    if (field.equals(spec.target().field())) {
      min = spec.target().min();
      max = spec.target().max();
    }
    for (TopologySpec.Feature f : spec.features()) {
      if (field.equals(f.field())) {
        min = f.min();
        max = f.max();
      }
    }
    return min == null || max == null ? 20 : Math.min((min + max) / 2, min + 100);
  }

  private static String mutate(String v, Random random) {
    StringBuilder sb = new StringBuilder(v);
    for (int m = 1 + random.nextInt(3); m > 0 && sb.length() > 0; m--) {
      int at = random.nextInt(sb.length());
      String alphabet = "{}[]\",:.-+eE0123456789 \\xnul\u00e9";
      char c = alphabet.charAt(random.nextInt(alphabet.length()));
      switch (random.nextInt(3)) {
        case 0:
          sb.setCharAt(at, c);
          break;
        case 1:
          sb.deleteCharAt(at);
          break;
        default:
          sb.insert(at, c);
      }
    }
    return sb.toString();
  }

  private static String q(String name) {
    return "\"" + name + "\"";
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
