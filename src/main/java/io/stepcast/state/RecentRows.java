package io.stepcast.state;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The byte layout of a series' recent model inputs, kept for burn-in after a model swap: one row
 * per event in its own record, so an event writes one small row instead of rewriting a ring buffer.
 *
 * <pre>
 * key:   UTF-8 series id | u16 slot (big-endian), slot = step % capacity
 * value: u8 format=1 | i64 step | width f32 (little-endian)    = 9 + 4 * width bytes
 * </pre>
 *
 * <p>The step stored in the value says which event the row belongs to, so a reader never mixes in a
 * row left over from an older pass around the ring (or from another capacity).
 */
public final class RecentRows {
  private static final byte FORMAT = 1;

  private RecentRows() {}

  /** The key of a series' slot. */
  public static byte[] key(byte[] series, int slot) {
    byte[] k = new byte[series.length + 2];
    System.arraycopy(series, 0, k, 0, series.length);
    k[series.length] = (byte) (slot >>> 8);
    k[series.length + 1] = (byte) slot;
    return k;
  }

  /** The UTF-8 bytes of a series id, for {@link #key}. */
  public static byte[] series(String id) {
    return id.getBytes(StandardCharsets.UTF_8);
  }

  /** The value of the row of step {@code step}: {@code width} floats of {@code x} from offset. */
  public static byte[] value(long step, float[] x, int offset, int width) {
    byte[] v = new byte[9 + 4 * width];
    ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
    b.put(FORMAT).putLong(step);
    b.asFloatBuffer().put(x, offset, width);
    return v;
  }

  /**
   * Copies the row into {@code out} from {@code offset} if the value holds step {@code step} with
   * {@code width} floats; returns whether it did.
   */
  public static boolean row(byte[] value, long step, float[] out, int offset, int width) {
    if (value == null || value.length != 9 + 4 * width || value[0] != FORMAT) {
      return false;
    }
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    if (b.getLong(1) != step) {
      return false;
    }
    b.position(9);
    b.asFloatBuffer().get(out, offset, width);
    return true;
  }
}
