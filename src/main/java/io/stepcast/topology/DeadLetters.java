package io.stepcast.topology;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;

/**
 * Header names of a dead-letter record. The value and key are the original bytes, untouched; these
 * headers say why and where from, so the record can be fixed and replayed.
 */
public final class DeadLetters {
  /** Short machine-readable reason, e.g. {@code malformed_json}, {@code late}. */
  public static final String REASON = "stepcast.error.reason";

  /** Human-readable explanation naming the field. */
  public static final String MESSAGE = "stepcast.error.message";

  /** The processor that rejected it: {@code parse} or {@code forecast}. */
  public static final String STAGE = "stepcast.error.stage";

  /** The pipeline's name. */
  public static final String PIPELINE = "stepcast.pipeline";

  /** The input topic the record was read from. */
  public static final String SOURCE_TOPIC = "stepcast.source.topic";

  /** The input partition. */
  public static final String SOURCE_PARTITION = "stepcast.source.partition";

  /** The input offset. */
  public static final String SOURCE_OFFSET = "stepcast.source.offset";

  private DeadLetters() {}

  static void write(Headers headers, String pipeline, Envelope e) {
    put(headers, REASON, e.reason.id());
    put(headers, MESSAGE, e.message);
    put(headers, STAGE, e.stage);
    put(headers, PIPELINE, pipeline);
    put(headers, SOURCE_TOPIC, e.sourceTopic);
    put(headers, SOURCE_PARTITION, Integer.toString(e.sourcePartition));
    put(headers, SOURCE_OFFSET, Long.toString(e.sourceOffset));
  }

  private static void put(Headers headers, String name, String value) {
    headers.remove(name);
    headers.add(name, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
  }

  /** Reads a header as text, or null. */
  public static String read(Headers headers, String name) {
    var h = headers.lastHeader(name);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
