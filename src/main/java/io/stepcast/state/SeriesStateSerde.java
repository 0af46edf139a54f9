package io.stepcast.state;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The binary state-store format of {@link SeriesState}: a version byte, then fixed fields, then
 * length-prefixed arrays, all big-endian.
 *
 * <pre>
 * v1: u8 version=1 | u16 len + UTF-8 modelVersion | i64 steps | i64 modelSteps
 *     | i64 lastEventTime | i64 lastIntervalMs | f64 lastTarget | f64 lastForecast
 *     | i64 errorCount | f64 sumAbsError | f64 sumAbsErrorPersistence | u8 stateCount, each: i32 n + n f32
 *     | i32 n + n f32 lastFields | i32 ringCapacity | i32 ringWidth | i32 ringSize
 *     | ringSize*ringWidth f32 (oldest first) | [bytes a later version appends: ignored]
 * </pre>
 *
 * <p>Compatibility: a reader accepts every version up to its own, and ignores trailing bytes so a
 * later version may append fields without breaking an older reader during a rolling upgrade. Null
 * in, null out; bad bytes become a {@link SerializationException}.
 */
public final class SeriesStateSerde implements Serde<SeriesState> {
  /** The format version this build writes. */
  public static final byte VERSION = 1;

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

  /** Encodes a state. */
  public static byte[] write(SeriesState s) {
    byte[] version =
        s.modelVersion == null ? new byte[0] : s.modelVersion.getBytes(StandardCharsets.UTF_8);
    int size = 1 + 2 + version.length + 8 * 9 + 1;
    for (float[] t : s.states) {
      size += 4 + 4 * t.length;
    }
    size += 4 + 4 * s.lastFields.length + 12 + 4 * s.ringSize * s.ringWidth;
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put(VERSION);
    b.putShort((short) version.length).put(version);
    b.putLong(s.steps).putLong(s.modelSteps).putLong(s.lastEventTime).putLong(s.lastIntervalMs);
    b.putDouble(s.lastTarget).putDouble(s.lastForecast);
    b.putLong(s.errorCount).putDouble(s.sumAbsError).putDouble(s.sumAbsErrorPersistence);
    b.put((byte) s.states.length);
    for (float[] t : s.states) {
      putFloats(b, t);
    }
    putFloats(b, s.lastFields);
    b.putInt(s.ringCapacity).putInt(s.ringWidth).putInt(s.ringSize);
    int start =
        s.ringCapacity == 0 ? 0 : (s.ringHead - s.ringSize + s.ringCapacity) % s.ringCapacity;
    for (int i = 0; i < s.ringSize; i++) {
      int offset = ((start + i) % s.ringCapacity) * s.ringWidth;
      for (int j = 0; j < s.ringWidth; j++) {
        b.putFloat(s.ring[offset + j]);
      }
    }
    return b.array();
  }

  /** Decodes a state written by this or an earlier version. */
  public static SeriesState read(byte[] bytes) {
    if (bytes.length == 0) {
      throw new SerializationException("empty series state");
    }
    byte version = bytes[0];
    if (version < 1 || version > VERSION) {
      throw new SerializationException(
          "series state format version "
              + version
              + " is not known to this build (reads 1.."
              + VERSION
              + ")");
    }
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes, 1, bytes.length - 1);
      SeriesState s = new SeriesState();
      byte[] v = new byte[Short.toUnsignedInt(b.getShort())];
      b.get(v);
      s.modelVersion = v.length == 0 ? null : new String(v, StandardCharsets.UTF_8);
      s.steps = b.getLong();
      s.modelSteps = b.getLong();
      s.lastEventTime = b.getLong();
      s.lastIntervalMs = b.getLong();
      s.lastTarget = b.getDouble();
      s.lastForecast = b.getDouble();
      s.errorCount = b.getLong();
      s.sumAbsError = b.getDouble();
      s.sumAbsErrorPersistence = b.getDouble();
      int n = Byte.toUnsignedInt(b.get());
      s.states = new float[n][];
      for (int i = 0; i < n; i++) {
        s.states[i] = getFloats(b);
      }
      s.lastFields = getFloats(b);
      s.ringCapacity = b.getInt();
      s.ringWidth = b.getInt();
      s.ringSize = b.getInt();
      if (s.ringCapacity < 0
          || s.ringWidth < 0
          || s.ringSize < 0
          || s.ringSize > s.ringCapacity
          || (long) s.ringCapacity * s.ringWidth > 1 << 24) {
        throw new SerializationException("corrupt series state: bad ring buffer sizes");
      }
      s.ring = new float[s.ringCapacity * s.ringWidth];
      for (int i = 0; i < s.ringSize * s.ringWidth; i++) {
        s.ring[i] = b.getFloat();
      }
      s.ringHead = s.ringCapacity == 0 ? 0 : s.ringSize % s.ringCapacity;
      return s;
    } catch (BufferUnderflowException | IllegalArgumentException | NegativeArraySizeException e) {
      throw new SerializationException("corrupt series state (" + bytes.length + " bytes)", e);
    }
  }

  private static void putFloats(ByteBuffer b, float[] a) {
    b.putInt(a.length);
    for (float f : a) {
      b.putFloat(f);
    }
  }

  private static float[] getFloats(ByteBuffer b) {
    int n = b.getInt();
    if (n < 0 || n > b.remaining() / 4) {
      throw new SerializationException("corrupt series state: array of " + n + " floats");
    }
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = b.getFloat();
    }
    return a;
  }
}
