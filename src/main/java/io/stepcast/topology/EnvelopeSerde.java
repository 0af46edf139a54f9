package io.stepcast.topology;

import io.stepcast.features.Event;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Carries a validated event through the repartition topic (pipelines whose series id is a JSON
 * field): the parsed values, the original record bytes and where it was read, so that a later dead
 * letter (late, duplicate) still names the input topic, partition and offset.
 *
 * <p>Version 2 adds what the parse stage cut from the original record (a near-limit event carries
 * bounded prefixes, see {@link DeadLetters#carry}) and the original sizes; version 1 records, from
 * an instance of an older build during a rolling upgrade, still read.
 */
final class EnvelopeSerde implements Serde<Envelope> {
  private static final byte VERSION = 2;

  @Override
  public Serializer<Envelope> serializer() {
    return (topic, e) -> e == null ? null : write(e);
  }

  @Override
  public Deserializer<Envelope> deserializer() {
    return (topic, bytes) -> bytes == null ? null : read(bytes);
  }

  static byte[] write(Envelope e) {
    Event ev = e.event;
    byte[] id = ev.seriesId().getBytes(StandardCharsets.UTF_8);
    byte[] topic =
        e.sourceTopic == null ? new byte[0] : e.sourceTopic.getBytes(StandardCharsets.UTF_8);
    byte[] truncated =
        e.truncated == null ? new byte[0] : e.truncated.getBytes(StandardCharsets.UTF_8);
    int keyLen = e.rawKey == null ? -1 : e.rawKey.length;
    int valueLen = e.rawValue == null ? -1 : e.rawValue.length;
    int size =
        1
            + 4
            + id.length
            + 8
            + 8
            + 4
            + 8 * ev.fields().length
            + 4
            + topic.length
            + 4
            + 8
            + 4
            + Math.max(0, keyLen)
            + 4
            + Math.max(0, valueLen)
            + 4
            + truncated.length
            + 12;
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put(VERSION);
    b.putInt(id.length).put(id);
    b.putLong(ev.timeMillis()).putDouble(ev.target());
    b.putInt(ev.fields().length);
    for (double f : ev.fields()) {
      b.putDouble(f);
    }
    b.putInt(topic.length).put(topic).putInt(e.sourcePartition).putLong(e.sourceOffset);
    b.putInt(keyLen);
    if (keyLen > 0) {
      b.put(e.rawKey);
    }
    b.putInt(valueLen);
    if (valueLen > 0) {
      b.put(e.rawValue);
    }
    b.putInt(truncated.length).put(truncated);
    b.putInt(e.keySize).putInt(e.valueSize).putInt(e.headersSize);
    return b.array();
  }

  static Envelope read(byte[] bytes) {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      byte v = b.get();
      if (v != 1 && v != VERSION) {
        throw new SerializationException("unknown repartition record version " + v);
      }
      String id = new String(bytes(b, b.getInt()), StandardCharsets.UTF_8);
      long time = b.getLong();
      double target = b.getDouble();
      int n = b.getInt();
      if (n < 0 || n > b.remaining() / 8) {
        throw new SerializationException("corrupt repartition record: " + n + " fields");
      }
      double[] fields = new double[n];
      for (int i = 0; i < fields.length; i++) {
        fields[i] = b.getDouble();
      }
      Envelope e = new Envelope();
      e.event = Event.of(id, time, target, fields);
      byte[] topic = bytes(b, b.getInt());
      e.sourceTopic = topic.length == 0 ? null : new String(topic, StandardCharsets.UTF_8);
      e.sourcePartition = b.getInt();
      e.sourceOffset = b.getLong();
      int keyLen = b.getInt();
      e.rawKey = keyLen < 0 ? null : bytes(b, keyLen);
      int valueLen = b.getInt();
      e.rawValue = valueLen < 0 ? null : bytes(b, valueLen);
      if (v >= 2) {
        byte[] truncated = bytes(b, b.getInt());
        e.truncated = truncated.length == 0 ? null : new String(truncated, StandardCharsets.UTF_8);
        e.keySize = b.getInt();
        e.valueSize = b.getInt();
        e.headersSize = b.getInt();
      } else {
        e.keySize = keyLen;
        e.valueSize = valueLen;
      }
      if (b.hasRemaining()) {
        throw new SerializationException("trailing bytes in a repartition record");
      }
      return e;
    } catch (BufferUnderflowException | NegativeArraySizeException e) {
      throw new SerializationException("corrupt repartition record", e);
    }
  }

  private static byte[] bytes(ByteBuffer b, int n) {
    // A corrupt length must not allocate gigabytes.
    if (n < 0 || n > b.remaining()) {
      throw new SerializationException("corrupt repartition record: length " + n);
    }
    byte[] out = new byte[n];
    b.get(out);
    return out;
  }
}
