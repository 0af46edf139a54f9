package io.stepcast.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HexFormat;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class SeriesStateSerdeTest {
  private final SeriesStateSerde serde = new SeriesStateSerde();

  private static SeriesState sample() {
    SeriesState s = SeriesState.fresh("m-1", new int[] {3, 3}, 2, 4, 2);
    s.states()[0][1] = 0.5f;
    s.states()[1][2] = -1.25f;
    for (int i = 0; i < 6; i++) {
      s.push(new float[] {i, 10 + i});
    }
    s.remember(1000L, 4.5, new double[] {1.0, 2.0});
    s.advance("m-1", 5.0);
    s.score(6.0);
    return s;
  }

  @Test
  void shouldRoundTripEveryField() {
    SeriesState s = sample();
    SeriesState r = serde.deserializer().deserialize("t", serde.serializer().serialize("t", s));
    assertThat(r.modelVersion()).isEqualTo("m-1");
    assertThat(r.steps()).isEqualTo(1);
    assertThat(r.modelSteps()).isEqualTo(1);
    assertThat(r.lastEventTime()).isEqualTo(1000L);
    assertThat(r.lastTarget()).isEqualTo(4.5);
    assertThat(r.lastForecast()).isEqualTo(5.0);
    assertThat(r.states()[0]).containsExactly(0f, 0.5f, 0f);
    assertThat(r.states()[1]).containsExactly(0f, 0f, -1.25f);
    assertThat(r.lastFields()).containsExactly(1f, 2f);
    assertThat(r.errorCount()).isEqualTo(1);
    assertThat(r.mae()).isEqualTo(1.0);
    assertThat(r.persistenceMae()).isEqualTo(1.5);
    assertThat(r.ringSize()).isEqualTo(4);
    float[] row = new float[2];
    r.ringRow(0, row);
    assertThat(row).containsExactly(2f, 12f);
    r.ringRow(3, row);
    assertThat(row).containsExactly(5f, 15f);
    // The ring keeps working after a round trip: the oldest row drops.
    r.push(new float[] {6, 16});
    r.ringRow(0, row);
    assertThat(row).containsExactly(3f, 13f);
  }

  @Test
  void shouldPassNullThrough() {
    assertThat(serde.serializer().serialize("t", null)).isNull();
    assertThat(serde.deserializer().deserialize("t", null)).isNull();
  }

  // Bytes written by format version 1 (the first release). Every later build must read them: a
  // state store outlives the build that wrote it. Do not regenerate this constant.
  private static final String V1 =
      "0100036d2d310000000000000001000000000000000100000000000003e80000"
          + "0000000000004012000000000000401400000000000000000000000000013ff0"
          + "0000000000003ff80000000000000200000003000000003f0000000000000000"
          + "0000030000000000000000bfa00000000000023f800000400000000000000400"
          + "0000020000000440000000414000004040000041500000408000004160000040"
          + "a0000041700000";

  @Test
  void shouldReadTheVersionOneFormat() {
    byte[] v1 = HexFormat.of().parseHex(V1);
    SeriesState r = SeriesStateSerde.read(v1);
    assertThat(r.modelVersion()).isEqualTo("m-1");
    assertThat(r.lastTarget()).isEqualTo(4.5);
    assertThat(r.states()[1]).containsExactly(0f, 0f, -1.25f);
    assertThat(r.ringSize()).isEqualTo(4);
  }

  @Test
  void shouldIgnoreFieldsALaterVersionAppends() {
    byte[] bytes = SeriesStateSerde.write(sample());
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 16);
    assertThat(SeriesStateSerde.read(longer).lastForecast()).isEqualTo(5.0);
  }

  @Test
  void shouldRefuseUnknownVersionsAndCorruptBytes() {
    byte[] bytes = SeriesStateSerde.write(sample());
    bytes[0] = 9;
    assertThatThrownBy(() -> SeriesStateSerde.read(bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("version 9");
    byte[] cut = Arrays.copyOf(SeriesStateSerde.write(sample()), 30);
    assertThatThrownBy(() -> SeriesStateSerde.read(cut)).isInstanceOf(SerializationException.class);
  }
}
