package io.stepcast.state;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RecentRowsTest {
  @Test
  void shouldRoundTripARowAndRefuseAnotherStepOrWidth() {
    float[] x = {9f, 1f, 2f, 3f, 9f};
    byte[] v = RecentRows.value(41, x, 1, 3);
    assertThat(v).hasSize(9 + 12);
    float[] out = new float[4];
    assertThat(RecentRows.row(v, 41, out, 1, 3)).isTrue();
    assertThat(out).containsExactly(0f, 1f, 2f, 3f);
    assertThat(RecentRows.row(v, 17, out, 0, 3)).isFalse();
    assertThat(RecentRows.row(v, 41, out, 0, 2)).isFalse();
    assertThat(RecentRows.row(null, 41, out, 0, 3)).isFalse();
  }

  @Test
  void shouldKeySlotsOfOneSeriesTogetherAndApartFromOthers() {
    byte[] a = RecentRows.key(RecentRows.series("a"), 258);
    assertThat(a).containsExactly('a', 1, 2);
    assertThat(RecentRows.key(RecentRows.series("a"), 3))
        .isNotEqualTo(RecentRows.key(RecentRows.series("a"), 4));
  }
}
