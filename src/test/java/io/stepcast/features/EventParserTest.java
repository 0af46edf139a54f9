package io.stepcast.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EventParserTest {
  private static byte[] b(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }

  private final TopologySpec weather = SpecFixtures.weather();
  private final EventParser parser = new EventParser(weather);

  private ParseResult parse(String key, String json) {
    return parser.parse(b(key), b(json));
  }

  @Test
  void shouldParseAValidEvent() {
    ParseResult r =
        parse(
            "seattle",
            "{\"date\":\"2010-01-01T01:00:00\",\"pressure\":1016.6,\"temperature\":4.0,\"wind\":3.8,\"extra\":{\"a\":[1,2]}}");
    assertThat(r.kind()).isEqualTo(ParseResult.Kind.EVENT);
    assertThat(r.event().seriesId()).isEqualTo("seattle");
    assertThat(r.event().timeMillis()).isEqualTo(1262307600000L);
    assertThat(r.event().target()).isEqualTo(4.0);
    assertThat(r.event().fields()).containsExactly(1016.6, 3.8);
  }

  @ParameterizedTest(name = "fast path {0}")
  @ValueSource(booleans = {true, false})
  void shouldFeedADifferencedTargetsLevelToItsFeatureSlot(boolean fastPath) {
    TopologySpec levels =
        SpecFixtures.withFeatures(
            weather,
            List.of(
                new TopologySpec.Feature("pressure", null, null, null, null, null),
                new TopologySpec.Feature("temperature", null, null, null, null, null)));
    EventParser p = new EventParser(levels, System::currentTimeMillis, fastPath);

    ParseResult r =
        p.parse(
            b("seattle"),
            b("{\"date\":\"2010-01-01T01:00:00\",\"pressure\":1016.6,\"temperature\":-4.5}"));
    assertThat(r.kind()).as(r.message()).isEqualTo(ParseResult.Kind.EVENT);
    assertThat(r.event().target()).isEqualTo(-4.5);
    assertThat(r.event().fields()).containsExactly(1016.6, -4.5);
    // The parser reuses its result: the first one is read before the next parse.
    ParseResult missing =
        p.parse(b("seattle"), b("{\"date\":\"2010-01-01T02:00:00\",\"pressure\":1016.6}"));

    // Missing, it is the target that is missing: skipped as the target is, never carried.
    assertThat(missing.kind()).isNotEqualTo(ParseResult.Kind.EVENT);
    assertThat(missing.message()).contains("target field 'temperature'");
  }

  @Test
  void shouldRejectMalformedJson() {
    assertThat(parse("s", "{\"date\":").reason()).isEqualTo(Rejection.MALFORMED_JSON);
    assertThat(parse("s", "[1,2]").reason()).isEqualTo(Rejection.MALFORMED_JSON);
    assertThat(parse("s", "").reason()).isEqualTo(Rejection.MALFORMED_JSON);
    assertThat(parse("s", "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":1} x").reason())
        .isEqualTo(Rejection.MALFORMED_JSON);
  }

  @Test
  void shouldRejectNonNumericAndNonFiniteValues() {
    ParseResult r =
        parse(
            "s",
            "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":\"warm\",\"pressure\":1016,\"wind\":1}");
    assertThat(r.reason()).isEqualTo(Rejection.NON_NUMERIC);
    assertThat(r.message()).contains("temperature");
    assertThat(
            parse(
                    "s",
                    "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":NaN,\"pressure\":1016,\"wind\":1}")
                .reason())
        .isEqualTo(Rejection.NOT_FINITE);
    assertThat(
            parse(
                    "s",
                    "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":1e999,\"pressure\":1016,\"wind\":1}")
                .reason())
        .isEqualTo(Rejection.NOT_FINITE);
    assertThat(
            parse(
                    "s",
                    "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":\"Infinity\",\"pressure\":1016,\"wind\":1}")
                .reason())
        .isEqualTo(Rejection.NOT_FINITE);
  }

  @Test
  void shouldRejectBadKeysAndTimestamps() {
    assertThat(parse(null, "{}").reason()).isEqualTo(Rejection.BAD_KEY);
    assertThat(parse("", "{}").reason()).isEqualTo(Rejection.BAD_KEY);
    assertThat(parser.parse(new byte[] {(byte) 0xff, (byte) 0xfe}, b("{}")).reason())
        .isEqualTo(Rejection.BAD_KEY);
    assertThat(
            parse("s", "{\"date\":\"yesterday\",\"temperature\":1,\"pressure\":1016,\"wind\":1}")
                .reason())
        .isEqualTo(Rejection.BAD_TIMESTAMP);
    assertThat(parse("s", "{\"temperature\":1,\"pressure\":1016,\"wind\":1}").reason())
        .isEqualTo(Rejection.MISSING_FIELD);
  }

  @Test
  void shouldLeaveMissingInputsNanUnderCarryForward() {
    ParseResult r =
        parse("s", "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":4.0,\"pressure\":null}");
    assertThat(r.kind()).isEqualTo(ParseResult.Kind.EVENT);
    assertThat(r.event().fields()[0]).isNaN();
    assertThat(r.event().fields()[1]).isNaN();
  }

  @Test
  void shouldSkipOrRejectMissingValuesByPolicy() {
    String json = "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":4.0,\"pressure\":1016}";
    EventParser skip =
        new EventParser(SpecFixtures.withMissing(weather, TopologySpec.MissingPolicy.SKIP));
    assertThat(skip.parse(b("s"), b(json)).kind()).isEqualTo(ParseResult.Kind.SKIPPED);
    EventParser reject =
        new EventParser(SpecFixtures.withMissing(weather, TopologySpec.MissingPolicy.REJECT));
    ParseResult r = reject.parse(b("s"), b(json));
    assertThat(r.reason()).isEqualTo(Rejection.MISSING_FIELD);
    assertThat(r.message()).contains("wind");
    assertThat(parse("s", "{\"date\":\"2010-01-01T01:00:00\",\"pressure\":1016,\"wind\":1}").kind())
        .isEqualTo(ParseResult.Kind.SKIPPED);
  }

  @Test
  void shouldReadTheSeriesIdFromAFieldAndAPattern() {
    EventParser stocks = new EventParser(SpecFixtures.stocks());
    ParseResult r =
        stocks.parse(null, b("{\"symbol\":\"MSFT\",\"date\":\"Jan 1 2000\",\"price\":39.81}"));
    assertThat(r.kind()).isEqualTo(ParseResult.Kind.EVENT);
    assertThat(r.event().seriesId()).isEqualTo("MSFT");
    assertThat(r.event().timeMillis()).isEqualTo(946684800000L);
    assertThat(stocks.parse(null, b("{\"date\":\"Jan 1 2000\",\"price\":39.81}")).reason())
        .isEqualTo(Rejection.MISSING_FIELD);
    assertThat(
            stocks
                .parse(null, b("{\"symbol\":{},\"date\":\"Jan 1 2000\",\"price\":39.81}"))
                .reason())
        .isEqualTo(Rejection.BAD_KEY);
    assertThat(
            stocks
                .parse(null, b("{\"symbol\":\"X\",\"date\":\"Jan 1 2000\",\"price\":0}"))
                .reason())
        .isEqualTo(Rejection.NOT_POSITIVE);
  }

  @Test
  void shouldAcceptEpochMillisAndOffsets() {
    assertThat(
            parse("s", "{\"date\":1262307600000,\"temperature\":1,\"pressure\":1016,\"wind\":1}")
                .event()
                .timeMillis())
        .isEqualTo(1262307600000L);
    assertThat(
            parse(
                    "s",
                    "{\"date\":\"2010-01-01T02:00:00+01:00\",\"temperature\":1,\"pressure\":1016,\"wind\":1}")
                .event()
                .timeMillis())
        .isEqualTo(1262307600000L);
    assertThat(
            parse(
                    "s",
                    "{\"date\":\"2010-01-01T01:00:00Z\",\"temperature\":1,\"pressure\":1016,\"wind\":1}")
                .event()
                .timeMillis())
        .isEqualTo(1262307600000L);
  }

  /** 2026-11-30T12:00:00Z: the clock of the instance in the time-window tests. */
  private static final long NOW = 1_796_040_000_000L;

  private final EventParser clocked = new EventParser(weather, () -> NOW);

  private static String event(String date) {
    return "{\"date\":" + date + ",\"temperature\":4.0,\"pressure\":1016.6,\"wind\":3.8}";
  }

  private ParseResult at(String date) {
    return clocked.parse(b("seattle"), b(event(date)));
  }

  @Test
  void shouldDeadLetterTimestampsBeyondEpochMillisecondsInsteadOfThrowing() {
    for (String t :
        new String[] {
          "\"+1000000000-01-01T00:00:00Z\"",
          "\"+300000000-01-01T00:00:00\"",
          "\"-300000000-01-01T00:00:00\"",
          "\"+300000000-01-01T00:00:00+01:00\"",
          "99999999999999999999",
          "-99999999999999999999"
        }) {
      ParseResult r = at(t);
      assertThat(r.reason()).as(t).isEqualTo(Rejection.OUT_OF_RANGE);
      assertThat(r.message()).as(t).isNotBlank();
    }
    EventParser epoch = new EventParser(SpecFixtures.stocks(), () -> NOW);
    assertThat(
            epoch
                .parse(null, b("{\"symbol\":\"X\",\"date\":\"Jan 1 +300000000\",\"price\":1}"))
                .kind())
        .isEqualTo(ParseResult.Kind.REJECTED);
  }

  @Test
  void shouldDeadLetterEventsStampedFarAheadOfTheClockOrBeforeTheEarliestTime() {
    for (String t :
        new String[] {
          "\"9999-12-31T23:59:59\"",
          "4102444800000",
          Long.toString(Long.MAX_VALUE),
          Long.toString(Long.MIN_VALUE),
          "\"+99999-01-01T00:00:00\"",
          "\"0000-01-01T00:00:00\"",
          "\"-0001-01-01T00:00:00\"",
          "\"1899-12-31T23:59:59Z\"",
          "\"2030-01-01T00:00:00\""
        }) {
      ParseResult r = at(t);
      assertThat(r.reason()).as(t).isEqualTo(Rejection.OUT_OF_RANGE);
      assertThat(r.message()).as(t).contains("timestamp.");
    }
    assertThat(at("\"1900-01-01T00:00:00Z\"").kind()).isEqualTo(ParseResult.Kind.EVENT);
    assertThat(at(Long.toString(NOW + 86_400_000L)).kind()).isEqualTo(ParseResult.Kind.EVENT);
    assertThat(at(Long.toString(NOW + 86_400_001L)).reason()).isEqualTo(Rejection.OUT_OF_RANGE);
  }

  @Test
  void shouldTreatARepeatedFieldAsMalformedWhicheverValueComesLast() {
    ParseResult r =
        clocked.parse(
            b("seattle"),
            b(
                "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":4.0,\"pressure\":1016.6,"
                    + "\"wind\":3.8,\"date\":\"2030-01-01T00:00:00\"}"));
    assertThat(r.reason()).isEqualTo(Rejection.MALFORMED_JSON);
    assertThat(r.message()).contains("date");
    assertThat(
            clocked
                .parse(
                    b("seattle"),
                    b(
                        "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":4.0,\"pressure\":1016.6,"
                            + "\"wind\":3.8,\"x\":{\"a\":1,\"a\":2}}"))
                .reason())
        .isEqualTo(Rejection.MALFORMED_JSON);
  }

  @Test
  void shouldRejectDeeplyNestedJsonWithoutExhaustingTheStack() {
    String deep = "[".repeat(10_000) + "]".repeat(10_000);
    ParseResult r =
        clocked.parse(
            b("seattle"),
            b("{\"x\":" + deep + ",\"date\":\"2010-01-01T01:00:00\",\"temperature\":4.0}"));
    assertThat(r.reason()).isEqualTo(Rejection.MALFORMED_JSON);
    assertThat(clocked.parse(b("seattle"), b(deep)).reason()).isEqualTo(Rejection.MALFORMED_JSON);
  }

  @Test
  void shouldRejectValuesBeyondFloat32AsNotFiniteAndOutsideTheSpecRangeAsOutOfRange() {
    String base =
        "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":%s,\"pressure\":%s,\"wind\":3}";
    assertThat(clocked.parse(b("s"), b(String.format(base, "1e39", "1016"))).reason())
        .isEqualTo(Rejection.NOT_FINITE);
    assertThat(clocked.parse(b("s"), b(String.format(base, "-1e300", "1016"))).reason())
        .isEqualTo(Rejection.NOT_FINITE);
    assertThat(clocked.parse(b("s"), b(String.format(base, "4", "1e39"))).reason())
        .isEqualTo(Rejection.NOT_FINITE);
    assertThat(
            clocked.parse(b("s"), b(String.format(base, "1" + "0".repeat(400), "1016"))).reason())
        .isEqualTo(Rejection.NOT_FINITE);
    ParseResult hot = clocked.parse(b("s"), b(String.format(base, "100", "1016")));
    assertThat(hot.reason()).isEqualTo(Rejection.OUT_OF_RANGE);
    assertThat(hot.message()).contains("temperature");
    assertThat(clocked.parse(b("s"), b(String.format(base, "4", "5000"))).reason())
        .isEqualTo(Rejection.OUT_OF_RANGE);
    assertThat(clocked.parse(b("s"), b(String.format(base, "-90", "800"))).kind())
        .isEqualTo(ParseResult.Kind.EVENT);
    assertThat(clocked.parse(b("s"), b(String.format(base, "\"4.0\"", "1016"))).reason())
        .isEqualTo(Rejection.NON_NUMERIC);
    assertThat(clocked.parse(b("s"), b(String.format(base, "[4]", "1016"))).reason())
        .isEqualTo(Rejection.NON_NUMERIC);
    EventParser stocks = new EventParser(SpecFixtures.stocks(), () -> NOW);
    assertThat(
            stocks
                .parse(null, b("{\"symbol\":\"X\",\"date\":\"Jan 1 2000\",\"price\":1e8}"))
                .reason())
        .isEqualTo(Rejection.OUT_OF_RANGE);
  }

  @Test
  void shouldRejectLookAlikeAndControlKeysByOneRule() {
    for (String id :
        new String[] {
          "\uFEFFseattle",
          "sea\u200Btle",
          "\u202Eseattle",
          "seattle\u2028",
          "se\u0007attle",
          "cafe\u0301",
          "a\u00ADb",
          "x".repeat(257)
        }) {
      assertThat(EventParser.isValidId(id)).as(id).isFalse();
      assertThat(clocked.parse(b(id), b(event("\"2010-01-01T01:00:00\""))).reason())
          .as(id)
          .isEqualTo(Rejection.BAD_KEY);
    }
    for (String id : new String[] {"seattle", "caf\u00e9", "Z\u00fcrich", "\u5317\u4eac", "a b"}) {
      assertThat(EventParser.isValidId(id)).as(id).isTrue();
      assertThat(clocked.parse(b(id), b(event("\"2010-01-01T01:00:00\""))).kind())
          .as(id)
          .isEqualTo(ParseResult.Kind.EVENT);
    }
    EventParser stocks = new EventParser(SpecFixtures.stocks(), () -> NOW);
    for (String id : new String[] {"\\ud800", "\\u202eMSFT", "MSFT\\u000a", ""}) {
      ParseResult r =
          stocks.parse(
              null, b("{\"symbol\":\"" + id + "\",\"date\":\"Jan 1 2000\",\"price\":39.81}"));
      assertThat(r.reason()).as(id).isEqualTo(Rejection.BAD_KEY);
      assertThat(r.message()).as(id).doesNotContain("\n", "\u202e");
    }
  }

  @Test
  void shouldBoundMessagesAndEscapeWhatCouldForgeALogLine() {
    String huge = "2010-01-01T01:00:00" + "9".repeat(600_000);
    ParseResult r = at("\"" + huge + "\"");
    assertThat(r.reason()).isEqualTo(Rejection.BAD_TIMESTAMP);
    assertThat(r.message()).hasSizeLessThan(300);
    ParseResult forged = at("\"2010\\nINFO forged line\"");
    assertThat(forged.reason()).isEqualTo(Rejection.BAD_TIMESTAMP);
    assertThat(forged.message()).doesNotContain("\n").contains("\\u000a");
  }

  @Test
  void shouldRejectMalformedUtf8AndTruncatedValues() {
    byte[] good = b(event("\"2010-01-01T01:00:00\""));
    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
    assertThat(clocked.parse(b("s"), truncated).reason()).isEqualTo(Rejection.MALFORMED_JSON);
    byte[] cut = b("{\"date\":\"2010-01-01T01:00:00\",\"temperature\":4.0,\"x\":\"\u00e9");
    cut = java.util.Arrays.copyOf(cut, cut.length - 1);
    assertThat(clocked.parse(b("s"), cut).reason()).isEqualTo(Rejection.MALFORMED_JSON);
    byte[] invalid = b("{\"x\":\"..\",\"date\":\"2010-01-01T01:00:00\",\"temperature\":4.0}");
    invalid[6] = (byte) 0xC3;
    invalid[7] = (byte) 0x28;
    assertThat(clocked.parse(b("s"), invalid).reason()).isEqualTo(Rejection.MALFORMED_JSON);
    assertThat(clocked.parse(new byte[] {(byte) 0xE2, (byte) 0x82}, good).reason())
        .isEqualTo(Rejection.BAD_KEY);
  }
}
