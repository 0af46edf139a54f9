package io.stepcast.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ForecastWriterTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldWriteEveryFieldWithDoublesThatReadBackBitForBit() throws Exception {
    ForecastWriter w = new ForecastWriter("temperature");
    SplittableRandom r = new SplittableRandom(3);
    for (int i = 0; i < 20_000; i++) {
      double actual = (r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(-8, 9));
      double forecast = Double.longBitsToDouble(r.nextLong() & 0x7fefffffffffffffL);
      double previous = i % 7 == 0 ? Double.NaN : r.nextDouble() * 100;
      long t = 1262307600000L + r.nextLong(0, 1_000_000_000_000L);
      JsonNode n =
          JSON.readTree(
              w.write(
                  "s" + i, t, actual, forecast, previous, 4.5, "m-" + (i / 1000), i, i % 2 == 0));
      assertThat(n.get("series").asText()).isEqualTo("s" + i);
      assertThat(n.get("timestamp").asText())
          .isEqualTo(java.time.Instant.ofEpochMilli(t).toString());
      assertThat(n.get("eventTime").asLong()).isEqualTo(t);
      assertThat(n.get("target").asText()).isEqualTo("temperature");
      assertThat(n.get("actual").asDouble()).isEqualTo(actual);
      assertThat(n.get("forecast").asDouble()).isEqualTo(forecast);
      if (Double.isNaN(previous)) {
        assertThat(n.get("previousForecast").isNull()).isTrue();
        assertThat(n.get("error").isNull()).isTrue();
      } else {
        assertThat(n.get("previousForecast").asDouble()).isEqualTo(previous);
        assertThat(n.get("error").asDouble()).isEqualTo(actual - previous);
      }
      assertThat(n.get("persistenceError").asDouble()).isEqualTo(actual - 4.5);
      assertThat(n.get("model").asText()).isEqualTo("m-" + (i / 1000));
      assertThat(n.get("steps").asLong()).isEqualTo(i);
      assertThat(n.get("warm").asBoolean()).isEqualTo(i % 2 == 0);
      assertThat(n.size()).isEqualTo(12);
    }
  }
}
