package io.stepcast.state;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The binary state-store format of {@link SeriesState}: a version byte, then fixed fields, then
 * length-prefixed float arrays.
 *
 * <pre>
 * v4 (written): v3's layout (version byte 4) up to the multipliers, then
 *     | i32 eventsSinceSwap (events the current model stepped since it took over; 2^31-1: never)
 *     | optional sections as v3, and
 *         tag 2, the further outputs' interval calibration (several targets or horizons): per
 *         output after the first, i32 count | f32 scale | levels * f32 multiplier
 *     = v3 + 4 bytes (373 for LSTM 1x32 with 2 fields and 2 levels); + 3 + (8 + 4 * levels) per
 *       further output with several outputs (83 bytes for 2 targets x 3 horizons at 2 levels)
 * v3 (read): v2's fields (version byte 3), then the prediction interval calibration:
 *     | i32 intervalCount | f32 intervalScale | u8 levels | levels * u16 level (ten-thousandths)
 *     | levels * f32 multiplier
 *     | optional sections, each u8 tag | u16 length | length bytes (a reader skips unknown tags):
 *         tag 1, further targets' next-event forecasts: n f64 (only for a model with several)
 *     | [bytes a later version appends: ignored]
 *     = v2 + 9 + 6 * levels bytes: 369 for LSTM 1x32 with 2 fields and 2 levels (one target)
 * v2 (read; little-endian, float arrays copied in bulk):
 *     u8 version=2 | i32 modelId | i64 steps | i64 modelSteps | i64 lastEventTime
 *     | i64 lastIntervalMs | f64 lastTarget | f64 lastForecast | i64 errorCount | f64 sumAbsError
 *     | f64 sumAbsErrorPersistence | u8 stateCount, each: u16 n + n f32 | u16 n + n f32 lastFields
 *     | [bytes a later version appends: ignored]
 *     = 80 + 2 * stateCount + 4 * (state floats + fields) bytes: 348 for LSTM 1x32 with 2 fields
 * v1 (read; big-endian): u8 version=1 | u16 len + UTF-8 modelVersion | i64 steps | i64 modelSteps
 *     | i64 lastEventTime | i64 lastIntervalMs | f64 lastTarget | f64 lastForecast
 *     | i64 errorCount | f64 sumAbsError | f64 sumAbsErrorPersistence | u8 stateCount, each: i32 n
 *     + n f32 | i32 n + n f32 lastFields | i32 ringCapacity | i32 ringWidth | i32 ringSize
 *     | ringSize*ringWidth f32 (oldest first) | [ignored]
 * </pre>
 *
 * <p>A v1 or v2 state reads with an empty interval section (its calibration starts on its next
 * event); a v1 to v3 state reads as never swapped and without further outputs' calibration (which
 * starts on its next event). Each is written as v4 on its next event. A v1 state reads without
 * loss: its model version becomes the {@link ModelId} of that version, and its ring buffer is
 * carried ({@link SeriesState#legacyRows}) until the state is next written. Compatibility: a reader
 * accepts every version up to its own, and ignores trailing bytes so a later version may append
 * fields without breaking an older reader during a rolling upgrade. Null in, null out; bad bytes
 * become a {@link SerializationException}.
 */
public final class SeriesStateSerde implements Serde<SeriesState> {
  /** The format version this build writes. */
  public static final byte VERSION = 4;

  private static final int FIXED = 1 + 4 + 8 * 9 + 1;

  /** Optional section: the further targets' next-event forecasts ({@code target.also}). */
  private static final byte SECTION_ALSO_FORECASTS = 1;

  /** Optional section: the further outputs' interval calibration (format v4). */
  private static final byte SECTION_OUTPUT_INTERVALS = 2;

  private final Serializer<SeriesState> serializer = (topic, s) -> s == null ? null : write(s);
  private final Deserializer<SeriesState> deserializer =
      (topic, bytes) -> bytes == null ? null : read(bytes);

  @Override
  public Serializer<SeriesState> serializer() {
    return serializer;
  }

  @Override
  public Deserializer<SeriesState> deserializer() {
    return deserializer;
  }

  /** The size of a state in the format this build writes. */
  public static int size(SeriesState s) {
    int size = FIXED + 2 + 4 * s.lastFields.length + 9 + 6 * s.intervalLevels.length + 4;
    for (float[] t : s.states) {
      size += 2 + 4 * t.length;
    }
    if (s.alsoForecasts != null) {
      size += 3 + 8 * s.alsoForecasts.length;
    }
    if (s.outputCounts.length > 0) {
      size += 3 + outputSectionLength(s);
    }
    return size;
  }

  private static int outputSectionLength(SeriesState s) {
    return s.outputCounts.length * (8 + 4 * s.intervalLevels.length);
  }

  /** Encodes a state in the current format (v4). */
  public static byte[] write(SeriesState s) {
    byte[] out = new byte[size(s)];
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    b.put(VERSION).putInt(s.modelId);
    b.putLong(s.steps).putLong(s.modelSteps).putLong(s.lastEventTime).putLong(s.lastIntervalMs);
    b.putDouble(s.lastTarget).putDouble(s.lastForecast);
    b.putLong(s.errorCount).putDouble(s.sumAbsError).putDouble(s.sumAbsErrorPersistence);
    b.put((byte) s.states.length);
    for (float[] t : s.states) {
      putFloats(b, t);
    }
    putFloats(b, s.lastFields);
    b.putInt(s.intervalCount).putFloat(s.intervalScale);
    int levels = s.intervalLevels.length;
    if (levels > 0xff || s.intervalMultipliers.length != levels) {
      throw new SerializationException("bad interval section: " + levels + " levels");
    }
    b.put((byte) levels);
    for (short level : s.intervalLevels) {
      b.putShort(level);
    }
    b.asFloatBuffer().put(s.intervalMultipliers);
    // A view buffer does not move the position: move it past the multipliers.
    b.position(b.position() + 4 * levels);
    b.putInt(s.eventsSinceSwap);
    if (s.alsoForecasts != null) {
      b.put(SECTION_ALSO_FORECASTS).putShort((short) (8 * s.alsoForecasts.length));
      b.asDoubleBuffer().put(s.alsoForecasts);
      b.position(b.position() + 8 * s.alsoForecasts.length);
    }
    int further = s.outputCounts.length;
    if (further > 0) {
      int length = outputSectionLength(s);
      if (length > 0xffff || s.outputMultipliers.length != further * levels) {
        throw new SerializationException("bad output interval section: " + further + " outputs");
      }
      b.put(SECTION_OUTPUT_INTERVALS).putShort((short) length);
      for (int o = 0; o < further; o++) {
        b.putInt(s.outputCounts[o]).putFloat(s.outputScales[o]);
        for (int i = 0; i < levels; i++) {
          b.putFloat(s.outputMultipliers[o * levels + i]);
        }
      }
    }
    return out;
  }

  /** Decodes a state written by this or an earlier version. */
  public static SeriesState read(byte[] bytes) {
    if (bytes.length == 0) {
      throw new SerializationException("empty series state");
    }
    byte version = bytes[0];
    try {
      switch (version) {
        case 4:
          return readV3(
              ByteBuffer.wrap(bytes, 1, bytes.length - 1).order(ByteOrder.LITTLE_ENDIAN), true);
        case 3:
          return readV3(
              ByteBuffer.wrap(bytes, 1, bytes.length - 1).order(ByteOrder.LITTLE_ENDIAN), false);
        case 2:
          return readV2(ByteBuffer.wrap(bytes, 1, bytes.length - 1).order(ByteOrder.LITTLE_ENDIAN));
        case 1:
          return readV1(ByteBuffer.wrap(bytes, 1, bytes.length - 1));
        default:
          throw new SerializationException(
              "series state format version "
                  + version
                  + " is not known to this build (reads 1.."
                  + VERSION
                  + ")");
      }
    } catch (BufferUnderflowException | IllegalArgumentException | NegativeArraySizeException e) {
      throw new SerializationException("corrupt series state (" + bytes.length + " bytes)", e);
    }
  }

  private static SeriesState readV2(ByteBuffer b) {
    SeriesState s = new SeriesState();
    s.modelId = b.getInt();
    readScalars(s, b);
    int n = Byte.toUnsignedInt(b.get());
    s.states = new float[n][];
    for (int i = 0; i < n; i++) {
      s.states[i] = getFloats(b, Short.toUnsignedInt(b.getShort()));
    }
    s.lastFields = getFloats(b, Short.toUnsignedInt(b.getShort()));
    return s;
  }

  /** Reads v3, or v4 ({@code v4}: with the swap counter after the multipliers). */
  private static SeriesState readV3(ByteBuffer b, boolean v4) {
    SeriesState s = readV2(b);
    s.intervalCount = b.getInt();
    s.intervalScale = b.getFloat();
    int levels = Byte.toUnsignedInt(b.get());
    if (levels > 0) {
      if (levels * 6 > b.remaining()) {
        throw new SerializationException("corrupt series state: " + levels + " interval levels");
      }
      s.intervalLevels = new short[levels];
      for (int i = 0; i < levels; i++) {
        s.intervalLevels[i] = b.getShort();
      }
      s.intervalMultipliers = getFloats(b, levels);
    }
    if (v4) {
      s.eventsSinceSwap = b.getInt();
      if (s.eventsSinceSwap < 0) {
        throw new SerializationException("corrupt series state: " + s.eventsSinceSwap + " events");
      }
    }
    readSections(s, b);
    return s;
  }

  /** Reads the optional tagged sections after the fixed part; unknown tags are skipped. */
  private static void readSections(SeriesState s, ByteBuffer b) {
    while (b.remaining() >= 3) {
      byte tag = b.get();
      int length = Short.toUnsignedInt(b.getShort());
      if (length > b.remaining()) {
        throw new SerializationException("corrupt series state: section of " + length + " bytes");
      }
      if (tag == SECTION_ALSO_FORECASTS && length % 8 == 0) {
        s.alsoForecasts = new double[length / 8];
        b.asDoubleBuffer().get(s.alsoForecasts);
      } else if (tag == SECTION_OUTPUT_INTERVALS) {
        readOutputIntervals(s, b.slice(b.position(), length).order(ByteOrder.LITTLE_ENDIAN));
      }
      b.position(b.position() + length);
    }
  }

  private static void readOutputIntervals(SeriesState s, ByteBuffer b) {
    int levels = s.intervalLevels.length;
    int per = 8 + 4 * levels;
    if (b.remaining() % per != 0) {
      throw new SerializationException(
          "corrupt series state: output interval section of " + b.remaining() + " bytes");
    }
    int further = b.remaining() / per;
    s.outputCounts = new int[further];
    s.outputScales = new float[further];
    s.outputMultipliers = new float[further * levels];
    for (int o = 0; o < further; o++) {
      s.outputCounts[o] = b.getInt();
      s.outputScales[o] = b.getFloat();
      for (int i = 0; i < levels; i++) {
        s.outputMultipliers[o * levels + i] = b.getFloat();
      }
    }
  }

  private static SeriesState readV1(ByteBuffer b) {
    SeriesState s = new SeriesState();
    byte[] v = new byte[Short.toUnsignedInt(b.getShort())];
    b.get(v);
    s.modelId = v.length == 0 ? 0 : ModelId.of(new String(v, StandardCharsets.UTF_8));
    readScalars(s, b);
    int n = Byte.toUnsignedInt(b.get());
    s.states = new float[n][];
    for (int i = 0; i < n; i++) {
      s.states[i] = getFloats(b, b.getInt());
    }
    s.lastFields = getFloats(b, b.getInt());
    int ringCapacity = b.getInt();
    int ringWidth = b.getInt();
    int ringSize = b.getInt();
    if (ringCapacity < 0
        || ringWidth < 0
        || ringSize < 0
        || ringSize > ringCapacity
        || (long) ringCapacity * ringWidth > 1 << 24) {
      throw new SerializationException("corrupt series state: bad ring buffer sizes");
    }
    if (ringSize > 0 && ringWidth > 0) {
      s.legacyRing = getFloats(b, ringSize * ringWidth);
      s.legacyRows = ringSize;
      s.legacyWidth = ringWidth;
    }
    return s;
  }

  private static void readScalars(SeriesState s, ByteBuffer b) {
    s.steps = b.getLong();
    s.modelSteps = b.getLong();
    s.lastEventTime = b.getLong();
    s.lastIntervalMs = b.getLong();
    s.lastTarget = b.getDouble();
    s.lastForecast = b.getDouble();
    s.errorCount = b.getLong();
    s.sumAbsError = b.getDouble();
    s.sumAbsErrorPersistence = b.getDouble();
  }

  private static void putFloats(ByteBuffer b, float[] a) {
    if (a.length > 0xffff) {
      throw new SerializationException("a state array of " + a.length + " floats is too long");
    }
    b.putShort((short) a.length);
    b.asFloatBuffer().put(a);
    b.position(b.position() + 4 * a.length);
  }

  private static float[] getFloats(ByteBuffer b, int n) {
    if (n < 0 || n > b.remaining() / 4) {
      throw new SerializationException("corrupt series state: array of " + n + " floats");
    }
    float[] a = new float[n];
    b.asFloatBuffer().get(a);
    b.position(b.position() + 4 * n);
    return a;
  }
}
