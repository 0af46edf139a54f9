package io.stepcast.state;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The format v1 writer as the first release shipped it (ring buffer in the state), for tests that
 * need v1 bytes of any shape: a store written by that release, read by this one.
 */
public final class V1Format {
  private V1Format() {}

  /**
   * {@code s} in format v1, named {@code version}, with {@code rows} ring rows of {@code width}.
   */
  public static byte[] encode(
      SeriesState s, String version, int capacity, float[] ring, int rows, int width) {
    byte[] v = version.getBytes(StandardCharsets.UTF_8);
    int size = 1 + 2 + v.length + 8 * 9 + 1;
    for (float[] t : s.states) {
      size += 4 + 4 * t.length;
    }
    size += 4 + 4 * s.lastFields.length + 12 + 4 * rows * width;
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put((byte) 1);
    b.putShort((short) v.length).put(v);
    b.putLong(s.steps).putLong(s.modelSteps).putLong(s.lastEventTime).putLong(s.lastIntervalMs);
    b.putDouble(s.lastTarget).putDouble(s.lastForecast);
    b.putLong(s.errorCount).putDouble(s.sumAbsError).putDouble(s.sumAbsErrorPersistence);
    b.put((byte) s.states.length);
    for (float[] t : s.states) {
      b.putInt(t.length);
      for (float f : t) {
        b.putFloat(f);
      }
    }
    b.putInt(s.lastFields.length);
    for (float f : s.lastFields) {
      b.putFloat(f);
    }
    b.putInt(capacity).putInt(width).putInt(rows);
    for (int i = 0; i < rows * width; i++) {
      b.putFloat(ring[i]);
    }
    return b.array();
  }
}
