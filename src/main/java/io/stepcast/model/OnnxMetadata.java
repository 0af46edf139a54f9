package io.stepcast.model;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the {@code metadata_props} of a serialized ONNX model without ONNX Runtime: a
 * bounds-checked walk over the top level of the {@code ModelProto} protobuf message.
 *
 * <p>Why: ranking model candidates by their spec's creation time must be cheap and must never open
 * a session (or allocate what a hostile file announces) for a model that will not be served.
 */
public final class OnnxMetadata {
  // ModelProto.metadata_props = 14; StringStringEntryProto.key = 1, value = 2 (onnx.proto3).
  private static final int METADATA_PROPS = 14;
  private static final int WIRE_VARINT = 0;
  private static final int WIRE_FIXED64 = 1;
  private static final int WIRE_LENGTH = 2;
  private static final int WIRE_FIXED32 = 5;

  private OnnxMetadata() {}

  /**
   * The model's metadata properties, in file order.
   *
   * @throws ModelException if the bytes are not a well-formed protobuf message
   */
  public static Map<String, String> read(byte[] onnx) throws ModelException {
    Map<String, String> out = new LinkedHashMap<>();
    Reader r = new Reader(onnx, 0, onnx.length);
    while (r.more()) {
      long tag = r.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (field == METADATA_PROPS && wire == WIRE_LENGTH) {
        int len = r.length();
        Reader entry = new Reader(onnx, r.pos, r.pos + len);
        r.pos += len;
        String key = null;
        String value = null;
        while (entry.more()) {
          long t = entry.varint();
          int f = (int) (t >>> 3);
          int w = (int) (t & 7);
          if ((f == 1 || f == 2) && w == WIRE_LENGTH) {
            int n = entry.length();
            String s = new String(onnx, entry.pos, n, StandardCharsets.UTF_8);
            entry.pos += n;
            if (f == 1) {
              key = s;
            } else {
              value = s;
            }
          } else {
            entry.skip(w);
          }
        }
        if (key != null) {
          out.put(key, value == null ? "" : value);
        }
      } else {
        r.skip(wire);
      }
    }
    if (out.isEmpty() && onnx.length == 0) {
      throw new ModelException("empty file: not an ONNX model");
    }
    return out;
  }

  /** A cursor over {@code [pos, end)} that never reads past {@code end}. */
  private static final class Reader {
    private final byte[] b;
    private final int end;
    private int pos;

    Reader(byte[] b, int pos, int end) {
      this.b = b;
      this.pos = pos;
      this.end = end;
    }

    boolean more() {
      return pos < end;
    }

    long varint() throws ModelException {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          throw malformed("truncated varint");
        }
        byte x = b[pos++];
        v |= (long) (x & 0x7f) << shift;
        if (x >= 0) {
          return v;
        }
      }
      throw malformed("varint longer than 10 bytes");
    }

    int length() throws ModelException {
      long n = varint();
      if (n < 0 || n > end - pos) {
        throw malformed("a field of " + n + " bytes runs past the end of the message");
      }
      return (int) n;
    }

    void skip(int wire) throws ModelException {
      switch (wire) {
        case WIRE_VARINT -> varint();
        case WIRE_FIXED64 -> advance(8);
        case WIRE_LENGTH -> advance(length());
        case WIRE_FIXED32 -> advance(4);
        default -> throw malformed("wire type " + wire + " at byte " + pos);
      }
    }

    private void advance(int n) throws ModelException {
      if (n > end - pos) {
        throw malformed("a field runs past the end of the message");
      }
      pos += n;
    }

    private static ModelException malformed(String what) {
      return new ModelException("not an ONNX model (malformed protobuf: " + what + ")");
    }
  }
}
