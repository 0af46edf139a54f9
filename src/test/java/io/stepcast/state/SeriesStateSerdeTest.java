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
    SeriesState s = SeriesState.fresh(ModelId.of("m-1"), new int[] {3, 3}, 2);
    s.states()[0][1] = 0.5f;
    s.states()[1][2] = -1.25f;
    s.remember(1000L, 4.5, new double[] {1.0, 2.0});
    s.advance(ModelId.of("m-1"), 5.0);
    s.score(6.0);
    return s;
  }

  @Test
  void shouldRoundTripEveryField() {
    SeriesState s = sample();
    s.remember(4600L, 6.0, new double[] {1.5, Double.NaN});
    s.advance(ModelId.of("m-1"), 6.5);
    SeriesState r = serde.deserializer().deserialize("t", serde.serializer().serialize("t", s));
    assertThat(r.modelId()).isEqualTo(ModelId.of("m-1"));
    assertThat(r.madeBy(ModelId.of("m-1"))).isTrue();
    assertThat(r.madeBy(ModelId.of("m-2"))).isFalse();
    assertThat(r.steps()).isEqualTo(2);
    assertThat(r.modelSteps()).isEqualTo(2);
    assertThat(r.lastEventTime()).isEqualTo(4600L);
    assertThat(r.lastIntervalMs()).isEqualTo(3600L);
    assertThat(r.lastTarget()).isEqualTo(6.0);
    assertThat(r.lastForecast()).isEqualTo(6.5);
    assertThat(r.states()[0]).containsExactly(0f, 0.5f, 0f);
    assertThat(r.states()[1]).containsExactly(0f, 0f, -1.25f);
    assertThat(r.lastFields()[0]).isEqualTo(1.5f);
    assertThat(r.lastFields()[1]).isNaN();
    assertThat(r.errorCount()).isEqualTo(1);
    assertThat(r.mae()).isEqualTo(1.0);
    assertThat(r.persistenceMae()).isEqualTo(1.5);
    assertThat(r.legacyRows()).isZero();
  }

  @Test
  void shouldWriteTheLeanFormatItsJavadocStates() {
    // LSTM 1x32 with 2 input fields, as the weather pipeline: 80 + 2*2 + 4*(32+32+2) bytes.
    SeriesState s = SeriesState.fresh(7, new int[] {32, 32}, 2);
    byte[] bytes = SeriesStateSerde.write(s);
    // v3 adds the interval section: 9 bytes, and 6 per level (80% and 95% here); v4 the swap
    // counter: 4 bytes.
    assertThat(bytes).hasSize(361).hasSize(SeriesStateSerde.size(s));
    s.alignIntervalLevels(new short[] {8000, 9500}, new float[] {1.6f, 3f});
    assertThat(SeriesStateSerde.write(s)).hasSize(373).hasSize(SeriesStateSerde.size(s));
    assertThat(bytes[0]).isEqualTo(SeriesStateSerde.VERSION).isEqualTo((byte) 4);
    // Two targets at three horizons: five further outputs, each a count, a scale and two
    // multipliers (16 bytes), in one tagged section (3 bytes).
    s.alignFurtherOutputs(5, new float[] {1.6f, 3f});
    assertThat(SeriesStateSerde.write(s)).hasSize(373 + 3 + 80).hasSize(SeriesStateSerde.size(s));
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

  // Bytes written by format version 2 (sample() above). Do not regenerate this constant.
  private static final String V2 =
      "0272b461a401000000000000000100000000000000e803000000000000000000"
          + "0000000000000000000000124000000000000014400100000000000000000000"
          + "000000f03f000000000000f83f020300000000000000003f0000000003000000"
          + "0000000000000000a0bf02000000803f00000040";

  // Bytes written by format version 3 (sampleV3() below). Do not regenerate this constant.
  private static final String V3 =
      "0372b461a401000000000000000100000000000000e803000000000000000000"
          + "0000000000000000000000124000000000000014400100000000000000000000"
          + "000000f03f000000000000f83f020300000000000000003f0000000003000000"
          + "0000000000000000a0bf02000000803f00000040010000000000003f02401f1c"
          + "25cdcccc3f00004040";

  /** sample() with an interval section: one scored error, scale 0.5, levels 80% and 95%. */
  private static SeriesState sampleV3() {
    SeriesState s = sample();
    s.alignIntervalLevels(new short[] {8000, 9500}, new float[] {1.6f, 3f});
    s.intervalScored(0.5f);
    return s;
  }

  // Bytes written by format version 4 (sampleV4() below). Do not regenerate this constant.
  private static final String V4 =
      "0410a4e28a02000000000000000100000000000000e803000000000000000000"
          + "0000000000000000000000124000000000000016400100000000000000000000"
          + "000000f03f000000000000f83f02030000000000000000000000000003000000"
          + "0000000000000000000002000000803f00000040010000000000003f02401f1c"
          + "25cdcccc3f0000404001000000022000030000000000803e0000c03f00002040"
          + "0000000000000000cdcccc3f00004040";

  /**
   * sampleV3() after a swap to model m-2 that stepped it once, calibrating two further outputs
   * (counts 3 and 0, scales 0.25 and 0; the first with multipliers 1.5 and 2.5).
   */
  private static SeriesState sampleV4() {
    SeriesState s = sampleV3();
    s.resetRecurrent(ModelId.of("m-2"), new int[] {3, 3});
    s.advance(ModelId.of("m-2"), 5.5);
    s.alignFurtherOutputs(2, new float[] {1.6f, 3f});
    for (int i = 0; i < 3; i++) {
      s.outputScored(0, 0.25f);
    }
    s.outputMultipliers()[0] = 1.5f;
    s.outputMultipliers()[1] = 2.5f;
    return s;
  }

  @Test
  void shouldReadTheVersionFourFormatWithEveryOutputsCalibrationAndTheSwapCounter() {
    byte[] v4 = HexFormat.of().parseHex(V4);
    assertThat(SeriesStateSerde.write(sampleV4())).isEqualTo(v4);
    SeriesState r = SeriesStateSerde.read(v4);
    assertThat(r.modelId()).isEqualTo(ModelId.of("m-2"));
    assertThat(r.lastForecast()).isEqualTo(5.5);
    assertThat(r.eventsSinceSwap()).isEqualTo(1);
    assertThat(r.intervalCount()).isEqualTo(1);
    assertThat(r.intervalMultipliers()).containsExactly(1.6f, 3f);
    assertThat(r.furtherOutputs()).isEqualTo(2);
    assertThat(r.outputCount(0)).isEqualTo(3);
    assertThat(r.outputScale(0)).isEqualTo(0.25f);
    assertThat(r.outputCount(1)).isZero();
    assertThat(r.outputMultipliers()).containsExactly(1.5f, 2.5f, 1.6f, 3f);
    // A copy does not share the further outputs' calibration.
    SeriesState c = r.copy();
    c.outputMultipliers()[0] = 9f;
    c.outputScored(1, 7f);
    assertThat(r.outputMultipliers()[0]).isEqualTo(1.5f);
    assertThat(r.outputCount(1)).isZero();
    // A change of levels keeps each output's multiplier of a level that stays.
    r.alignIntervalLevels(new short[] {9500, 9900}, new float[] {3f, 4.6f});
    assertThat(r.outputMultipliers()).containsExactly(2.5f, 4.6f, 3f, 4.6f);
    assertThat(r.intervalMultipliers()).containsExactly(3f, 4.6f);
  }

  @Test
  void shouldReadTheVersionThreeFormatWithItsIntervalSection() {
    byte[] v3 = HexFormat.of().parseHex(V3);
    // What the v3 writer wrote is the v4 layout up to the swap counter.
    byte[] now = SeriesStateSerde.write(sampleV3());
    assertThat(Arrays.copyOfRange(now, 1, v3.length))
        .isEqualTo(Arrays.copyOfRange(v3, 1, v3.length));
    SeriesState r = SeriesStateSerde.read(v3);
    // Written before swaps were counted: as never swapped, no further outputs calibrated.
    assertThat(r.eventsSinceSwap()).isEqualTo(SeriesState.NEVER_SWAPPED);
    assertThat(r.furtherOutputs()).isZero();
    assertThat(r.lastForecast()).isEqualTo(5.0);
    assertThat(r.lastFields()).containsExactly(1f, 2f);
    assertThat(r.intervalCount()).isEqualTo(1);
    assertThat(r.intervalScale()).isEqualTo(0.5f);
    assertThat(r.intervalLevels()).containsExactly((short) 8000, (short) 9500);
    assertThat(r.intervalMultipliers()).containsExactly(1.6f, 3f);
    // A copy (the state API rolls on one) does not share the multipliers.
    SeriesState c = r.copy();
    c.intervalMultipliers()[0] = 9f;
    assertThat(r.intervalMultipliers()[0]).isEqualTo(1.6f);
  }

  @Test
  void shouldReadTheVersionOneFormatWithItsRingBuffer() {
    byte[] v1 = HexFormat.of().parseHex(V1);
    SeriesState r = SeriesStateSerde.read(v1);
    assertThat(r.modelId()).isEqualTo(ModelId.of("m-1"));
    assertThat(r.steps()).isEqualTo(1);
    assertThat(r.lastTarget()).isEqualTo(4.5);
    assertThat(r.lastForecast()).isEqualTo(5.0);
    assertThat(r.states()[1]).containsExactly(0f, 0f, -1.25f);
    assertThat(r.lastFields()).containsExactly(1f, 2f);
    assertThat(r.mae()).isEqualTo(1.0);
    // The ring (rows 2..5 of six pushed, oldest first) is carried until the next write.
    assertThat(r.legacyRows()).isEqualTo(4);
    // The test's v1 writer is the released one: it gives the fixture's bytes back.
    float[] ring = new float[8];
    for (int i = 0; i < 4; i++) {
      r.legacyRow(i, ring, 2 * i);
    }
    assertThat(V1Format.encode(r, "m-1", 4, ring, 4, 2)).isEqualTo(v1);
    assertThat(r.legacyWidth()).isEqualTo(2);
    float[] row = new float[3];
    r.legacyRow(0, row, 1);
    assertThat(row).containsExactly(0f, 2f, 12f);
    r.legacyRow(3, row, 0);
    assertThat(row).containsExactly(5f, 15f, 12f);
    // Its next write is the current format, without the ring.
    byte[] upgraded = SeriesStateSerde.write(r);
    assertThat(upgraded[0]).isEqualTo(SeriesStateSerde.VERSION);
    assertThat(SeriesStateSerde.read(upgraded).intervalCount()).isZero();
    assertThat(SeriesStateSerde.read(upgraded).legacyRows()).isZero();
    assertThat(SeriesStateSerde.read(upgraded).mae()).isEqualTo(1.0);
  }

  @Test
  void shouldReadTheVersionTwoFormat() {
    byte[] v2 = HexFormat.of().parseHex(V2);
    // What the v2 writer wrote is the v4 layout up to the interval section.
    byte[] now = SeriesStateSerde.write(sample());
    assertThat(Arrays.copyOfRange(now, 1, v2.length))
        .isEqualTo(Arrays.copyOfRange(v2, 1, v2.length));
    SeriesState r = SeriesStateSerde.read(v2);
    // No interval section yet: the calibration starts on the series' next event.
    assertThat(r.intervalCount()).isZero();
    assertThat(r.intervalLevels()).isEmpty();
    assertThat(r.eventsSinceSwap()).isEqualTo(SeriesState.NEVER_SWAPPED);
    assertThat(r.modelId()).isEqualTo(ModelId.of("m-1"));
    assertThat(r.lastForecast()).isEqualTo(5.0);
    assertThat(r.states()[1]).containsExactly(0f, 0f, -1.25f);
    assertThat(r.lastFields()).containsExactly(1f, 2f);
    assertThat(r.mae()).isEqualTo(1.0);
  }

  @Test
  void shouldKeepTheModelIdStable() {
    // The id is in every stored state: it must never change for a given version string.
    assertThat(ModelId.hex(ModelId.of("m-1"))).isEqualTo("a461b472");
    assertThat(ModelId.hex(ModelId.of("weather-fixed-42"))).isEqualTo("11fac79a");
  }

  @Test
  void shouldIgnoreFieldsALaterVersionAppends() {
    byte[] bytes = SeriesStateSerde.write(sampleV3());
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 16);
    assertThat(SeriesStateSerde.read(longer).lastForecast()).isEqualTo(5.0);
  }

  @Test
  void shouldRefuseUnknownVersionsAndCorruptBytes() {
    byte[] bytes = SeriesStateSerde.write(sampleV3());
    bytes[0] = 9;
    assertThatThrownBy(() -> SeriesStateSerde.read(bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("version 9");
    byte[] withOutputs = SeriesStateSerde.write(sampleV4());
    for (int cut : new int[] {withOutputs.length - 1, withOutputs.length - 7}) {
      byte[] shorter = Arrays.copyOf(withOutputs, cut);
      assertThatThrownBy(() -> SeriesStateSerde.read(shorter))
          .isInstanceOf(SerializationException.class);
    }
    byte[] full = SeriesStateSerde.write(sampleV3());
    for (int cut : new int[] {1, 30, 89, full.length - 13, full.length - 5, full.length - 1}) {
      byte[] shorter = Arrays.copyOf(full, cut);
      assertThatThrownBy(() -> SeriesStateSerde.read(shorter))
          .isInstanceOf(SerializationException.class);
    }
    byte[] v1 = HexFormat.of().parseHex(V1);
    assertThatThrownBy(() -> SeriesStateSerde.read(Arrays.copyOf(v1, v1.length - 3)))
        .isInstanceOf(SerializationException.class);
    assertThatThrownBy(() -> SeriesStateSerde.read(new byte[0]))
        .isInstanceOf(SerializationException.class);
  }
}
