package io.stepcast.state;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The byte layout of a series' recent model inputs, kept for burn-in after a model swap: one row
 * per event in its own record, so an event writes one small row instead of rewriting a ring buffer.
 * A model with several targets or horizons keeps with each row the event's actual values and the
 * forecasts made at it, so the event {@code h} later scores the forecast of horizon {@code h} with
 * one read and no per-event rewrite of a pending-forecast ring in the state.
 *
 * <pre>
 * key:   UTF-8 series id | u16 slot (big-endian), slot = step % capacity
 * value: u8 format=1 | i64 step | width f32 (little-endian)    = 9 + 4 * width bytes
 *     or u8 format=2 | i64 step | u16 width | u16 scores | width f32 | scores f64 (little-endian)
 *        = 13 + 4 * width + 8 * scores bytes; scores: each target's actual, then every forecast
 *        made at this event (target-major, horizons ascending), then (with interval levels) the
 *        half-widths published with each forecast beyond the first horizon, per level
 * </pre>
 *
 * <p>The step stored in the value says which event the row belongs to, so a reader never mixes in a
 * row left over from an older pass around the ring (or from another capacity).
 */
public final class RecentRows {
  private static final byte FORMAT = 1;
  private static final byte FORMAT_SCORES = 2;
  private static final int HEADER_SCORES = 13;

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
   * The value of the row of step {@code step} with scores: {@code width} floats of {@code x} from
   * {@code offset}, then {@code count} doubles of {@code scores} from {@code scoresOffset}.
   */
  public static byte[] value(
      long step, float[] x, int offset, int width, double[] scores, int scoresOffset, int count) {
    byte[] v = new byte[HEADER_SCORES + 4 * width + 8 * count];
    ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
    b.put(FORMAT_SCORES).putLong(step).putShort((short) width).putShort((short) count);
    b.asFloatBuffer().put(x, offset, width);
    b.position(HEADER_SCORES + 4 * width);
    b.asDoubleBuffer().put(scores, scoresOffset, count);
    return v;
  }

  /**
   * Copies the row into {@code out} from {@code offset} if the value holds step {@code step} with
   * {@code width} floats; returns whether it did.
   */
  public static boolean row(byte[] value, long step, float[] out, int offset, int width) {
    if (value == null || value.length < 9) {
      return false;
    }
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    if (b.getLong(1) != step) {
      return false;
    }
    if (value[0] == FORMAT && value.length == 9 + 4 * width) {
      b.position(9);
    } else if (value[0] == FORMAT_SCORES
        && value.length >= HEADER_SCORES
        && Short.toUnsignedInt(b.getShort(9)) == width
        && value.length == HEADER_SCORES + 4 * width + 8 * Short.toUnsignedInt(b.getShort(11))) {
      b.position(HEADER_SCORES);
    } else {
      return false;
    }
    b.asFloatBuffer().get(out, offset, width);
    return true;
  }

  /**
   * Copies the scores kept with the row into {@code out} if the value holds step {@code step} with
   * exactly {@code count} scores; returns whether it did.
   */
  public static boolean scores(byte[] value, long step, double[] out, int count) {
    if (value == null || value.length < HEADER_SCORES || value[0] != FORMAT_SCORES) {
      return false;
    }
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    int width = Short.toUnsignedInt(b.getShort(9));
    if (b.getLong(1) != step
        || Short.toUnsignedInt(b.getShort(11)) != count
        || value.length != HEADER_SCORES + 4 * width + 8 * count) {
      return false;
    }
    b.position(HEADER_SCORES + 4 * width);
    b.asDoubleBuffer().get(out, 0, count);
    return true;
  }
}
