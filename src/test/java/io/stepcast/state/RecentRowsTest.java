package io.stepcast.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class RecentRowsTest {
  @Test
  void shouldRoundTripARowWithItsTargetAndRefuseAnotherStepOrWidth() {
    float[] x = {9f, 1f, 2f, 3f, 9f};
    byte[] v = RecentRows.value(41, 12.345678901, x, 1, 3);
    assertThat(v).hasSize(17 + 12);
    float[] out = new float[4];
    assertThat(RecentRows.row(v, 41, out, 1, 3)).isTrue();
    assertThat(out).containsExactly(0f, 1f, 2f, 3f);
    assertThat(RecentRows.target(v, 41, 3)).isEqualTo(12.345678901);
    assertThat(RecentRows.row(v, 17, out, 0, 3)).isFalse();
    assertThat(RecentRows.target(v, 17, 3)).isNaN();
    assertThat(RecentRows.row(v, 41, out, 0, 2)).isFalse();
    assertThat(RecentRows.target(v, 41, 2)).isNaN();
    assertThat(RecentRows.row(null, 41, out, 0, 3)).isFalse();
    assertThat(RecentRows.target(null, 41, 3)).isNaN();
  }

  @Test
  void shouldStillReplayAFormatOneRowWrittenByAnOlderBuildButKnowNoTarget() {
    // u8 format=1 | i64 step (little-endian) | 2 f32: what builds before lag features wrote.
    ByteBuffer b = ByteBuffer.allocate(9 + 8).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 1).putLong(7).putFloat(1.5f).putFloat(-2f);
    byte[] v = b.array();
    float[] out = new float[2];
    assertThat(RecentRows.row(v, 7, out, 0, 2)).isTrue();
    assertThat(out).containsExactly(1.5f, -2f);
    assertThat(RecentRows.target(v, 7, 2)).isNaN();
    assertThat(RecentRows.row(v, 8, out, 0, 2)).isFalse();
    v[0] = 3;
    assertThat(RecentRows.row(v, 7, out, 0, 2)).isFalse();
  }

  @Test
  void shouldKeySlotsOfOneSeriesTogetherAndApartFromOthers() {
    byte[] a = RecentRows.key(RecentRows.series("a"), 258);
    assertThat(a).containsExactly('a', 1, 2);
    assertThat(RecentRows.key(RecentRows.series("a"), 3))
        .isNotEqualTo(RecentRows.key(RecentRows.series("a"), 4));
  }
}
