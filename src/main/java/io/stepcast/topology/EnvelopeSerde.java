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
 */
final class EnvelopeSerde implements Serde<Envelope> {
  private static final byte VERSION = 1;

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
            + Math.max(0, valueLen);
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
    return b.array();
  }

  static Envelope read(byte[] bytes) {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      byte v = b.get();
      if (v != VERSION) {
        throw new SerializationException("unknown repartition record version " + v);
      }
      String id = new String(bytes(b, b.getInt()), StandardCharsets.UTF_8);
      long time = b.getLong();
      double target = b.getDouble();
      double[] fields = new double[b.getInt()];
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
      return e;
    } catch (BufferUnderflowException | NegativeArraySizeException e) {
      throw new SerializationException("corrupt repartition record", e);
    }
  }

  private static byte[] bytes(ByteBuffer b, int n) {
    byte[] out = new byte[n];
    b.get(out);
    return out;
  }
}
