package io.stepcast.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

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
            "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":\"warm\",\"pressure\":1,\"wind\":1}");
    assertThat(r.reason()).isEqualTo(Rejection.NON_NUMERIC);
    assertThat(r.message()).contains("temperature");
    assertThat(
            parse(
                    "s",
                    "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":NaN,\"pressure\":1,\"wind\":1}")
                .reason())
        .isEqualTo(Rejection.NOT_FINITE);
    assertThat(
            parse(
                    "s",
                    "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":1e999,\"pressure\":1,\"wind\":1}")
                .reason())
        .isEqualTo(Rejection.NOT_FINITE);
    assertThat(
            parse(
                    "s",
                    "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":\"Infinity\",\"pressure\":1,\"wind\":1}")
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
            parse("s", "{\"date\":\"yesterday\",\"temperature\":1,\"pressure\":1,\"wind\":1}")
                .reason())
        .isEqualTo(Rejection.BAD_TIMESTAMP);
    assertThat(parse("s", "{\"temperature\":1,\"pressure\":1,\"wind\":1}").reason())
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
    String json = "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":4.0,\"pressure\":1}";
    EventParser skip =
        new EventParser(SpecFixtures.withMissing(weather, TopologySpec.MissingPolicy.SKIP));
    assertThat(skip.parse(b("s"), b(json)).kind()).isEqualTo(ParseResult.Kind.SKIPPED);
    EventParser reject =
        new EventParser(SpecFixtures.withMissing(weather, TopologySpec.MissingPolicy.REJECT));
    ParseResult r = reject.parse(b("s"), b(json));
    assertThat(r.reason()).isEqualTo(Rejection.MISSING_FIELD);
    assertThat(r.message()).contains("wind");
    assertThat(parse("s", "{\"date\":\"2010-01-01T01:00:00\",\"pressure\":1,\"wind\":1}").kind())
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
                .parse(null, b("{\"symbol\":\"X\",\"date\":\"Jan 1 2000\",\"price\":-1}"))
                .reason())
        .isEqualTo(Rejection.NOT_POSITIVE);
  }

  @Test
  void shouldAcceptEpochMillisAndOffsets() {
    assertThat(
            parse("s", "{\"date\":1262307600000,\"temperature\":1,\"pressure\":1,\"wind\":1}")
                .event()
                .timeMillis())
        .isEqualTo(1262307600000L);
    assertThat(
            parse(
                    "s",
                    "{\"date\":\"2010-01-01T02:00:00+01:00\",\"temperature\":1,\"pressure\":1,\"wind\":1}")
                .event()
                .timeMillis())
        .isEqualTo(1262307600000L);
    assertThat(
            parse(
                    "s",
                    "{\"date\":\"2010-01-01T01:00:00Z\",\"temperature\":1,\"pressure\":1,\"wind\":1}")
                .event()
                .timeMillis())
        .isEqualTo(1262307600000L);
  }
}
