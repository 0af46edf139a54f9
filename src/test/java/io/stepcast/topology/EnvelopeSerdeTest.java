package io.stepcast.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.features.Event;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class EnvelopeSerdeTest {
  private static Envelope sample(String truncated) {
    Envelope e = new Envelope();
    e.event = Event.of("MSFT", 946684800000L, 39.81, 1.5, -2.0);
    e.rawKey = "k".getBytes(StandardCharsets.UTF_8);
    e.rawValue = "{\"price\":39.81}".getBytes(StandardCharsets.UTF_8);
    e.sourceTopic = "stock-events";
    e.sourcePartition = 3;
    e.sourceOffset = 42;
    e.truncated = truncated;
    e.keySize = 1;
    e.valueSize = truncated == null ? 15 : 1_000_000;
    e.headersSize = 7;
    return e;
  }

  @Test
  void shouldRoundTripAnEnvelopeWithItsTruncation() {
    for (String t : new String[] {null, "value", "key,value,headers"}) {
      Envelope e = sample(t);
      Envelope r = EnvelopeSerde.read(EnvelopeSerde.write(e));
      assertThat(r.event.seriesId()).isEqualTo("MSFT");
      assertThat(r.event.timeMillis()).isEqualTo(946684800000L);
      assertThat(r.event.fields()).containsExactly(1.5, -2.0);
      assertThat(r.rawKey).isEqualTo(e.rawKey);
      assertThat(r.rawValue).isEqualTo(e.rawValue);
      assertThat(r.sourceTopic).isEqualTo("stock-events");
      assertThat(r.sourcePartition).isEqualTo(3);
      assertThat(r.sourceOffset).isEqualTo(42);
      assertThat(r.truncated).isEqualTo(t);
      assertThat(r.valueSize).isEqualTo(e.valueSize);
      assertThat(r.headersSize).isEqualTo(7);
    }
  }

  @Test
  void shouldReadVersionOneRecordsWrittenByAnOlderBuild() {
    byte[] v2 = EnvelopeSerde.write(sample(null));
    // Version 1 is version 2 without the trailing truncation fields (4 + 0 + 12 bytes).
    byte[] v1 = Arrays.copyOf(v2, v2.length - 16);
    v1[0] = 1;
    Envelope r = EnvelopeSerde.read(v1);
    assertThat(r.truncated).isNull();
    assertThat(r.rawValue).isEqualTo(sample(null).rawValue);
    assertThat(r.valueSize).isEqualTo(r.rawValue.length);
  }

  @Test
  void shouldFailCorruptRecordsWithASerializationExceptionNotAnAllocation() {
    byte[] good = EnvelopeSerde.write(sample(null));
    byte[] hugeLength = good.clone();
    ByteBuffer.wrap(hugeLength).putInt(1, Integer.MAX_VALUE);
    assertThatThrownBy(() -> EnvelopeSerde.read(hugeLength))
        .isInstanceOf(SerializationException.class);
    assertThatThrownBy(() -> EnvelopeSerde.read(Arrays.copyOf(good, good.length - 1)))
        .isInstanceOf(SerializationException.class);
    assertThatThrownBy(() -> EnvelopeSerde.read(new byte[] {9}))
        .isInstanceOf(SerializationException.class);
    byte[] trailing = Arrays.copyOf(good, good.length + 1);
    assertThatThrownBy(() -> EnvelopeSerde.read(trailing))
        .isInstanceOf(SerializationException.class);
  }
}
