package io.stepcast.state;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The byte layout of a series' recent events, kept for burn-in after a model swap and for {@code
 * lag} features: one row per event in its own record, so an event writes one small row instead of
 * rewriting a ring buffer, and a lag is one {@code get} of the row that many events back.
 *
 * <pre>
 * key:   UTF-8 series id | u16 slot (big-endian), slot = step % capacity
 * value: u8 format=2 | i64 step | f64 target | width f32 (little-endian)   = 17 + 4 * width bytes
 *        u8 format=1 | i64 step | width f32                                  =  9 + 4 * width bytes
 * </pre>
 *
 * <p>The step stored in the value says which event the row belongs to, so a reader never mixes in a
 * row left over from an older pass around the ring (or from another capacity). Format 2 adds the
 * event's raw target (a lag feature needs the value, not its transform); format 1 rows, written by
 * older builds, still replay for burn-in and have no target.
 */
public final class RecentRows {
  private static final byte FORMAT_1 = 1;
  private static final byte FORMAT_2 = 2;
  private static final int HEADER_1 = 9;
  private static final int HEADER_2 = 17;

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

  /**
   * The value of the row of step {@code step}: the event's raw {@code target} and {@code width}
   * floats of {@code x} from offset.
   */
  public static byte[] value(long step, double target, float[] x, int offset, int width) {
    byte[] v = new byte[HEADER_2 + 4 * width];
    ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
    b.put(FORMAT_2).putLong(step).putDouble(target);
    b.asFloatBuffer().put(x, offset, width);
    return v;
  }

  /**
   * Copies the row into {@code out} from {@code offset} if the value holds step {@code step} with
   * {@code width} floats (either format); returns whether it did.
   */
  public static boolean row(byte[] value, long step, float[] out, int offset, int width) {
    int header = header(value, step, width);
    if (header < 0) {
      return false;
    }
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    b.position(header);
    b.asFloatBuffer().get(out, offset, width);
    return true;
  }

  /**
   * The raw target of step {@code step} if the value is that step's row in format 2 with {@code
   * width} floats; NaN otherwise (missing, another step, or a format 1 row that has no target).
   */
  public static double target(byte[] value, long step, int width) {
    if (header(value, step, width) != HEADER_2) {
      return Double.NaN;
    }
    return ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getDouble(HEADER_2 - 8);
  }

  /** The header length of a row of step {@code step} and {@code width} floats, or -1. */
  private static int header(byte[] value, long step, int width) {
    if (value == null || value.length < HEADER_1) {
      return -1;
    }
    int header;
    if (value[0] == FORMAT_2) {
      header = HEADER_2;
    } else if (value[0] == FORMAT_1) {
      header = HEADER_1;
    } else {
      return -1;
    }
    if (value.length != header + 4 * width
        || ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getLong(1) != step) {
      return -1;
    }
    return header;
  }
}
