package io.stepcast.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IsoInstantTest {
  private static void check(long millis) {
    char[] out = new char[24];
    int n = IsoInstant.format(millis, out);
    String expected = Instant.ofEpochMilli(millis).toString();
    if (n < 0) {
      // Only years Instant.toString() writes with a sign or a fifth digit are left to it.
      assertThat(expected).matches("[-+].*|\\d{5,}.*");
    } else {
      assertThat(new String(out, 0, n)).as("%d ms", millis).isEqualTo(expected);
    }
  }

  @Test
  void shouldFormatExactlyAsInstantToString() {
    long[] edges = {
      0,
      1,
      -1,
      999,
      1000,
      100,
      10,
      -86_400_000L,
      951_782_400_000L /* 2000-02-29 */,
      4_107_542_400_000L /* 2100-03-01 */,
      1262307600000L,
      253_402_300_799_999L /* 9999-12-31 */,
      253_402_300_800_000L /* 10000 */,
      -62_167_219_200_000L /* 0000-01-01 */,
      -62_167_219_200_001L,
      Long.MAX_VALUE / 2,
      Long.MIN_VALUE / 2
    };
    for (long e : edges) {
      check(e);
    }
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < 200_000; i++) {
      check(r.nextLong(-62_167_219_200_000L, 253_402_300_800_000L));
      check(r.nextLong(0, 4_000_000_000_000L) / 1000 * 1000);
    }
  }
}
