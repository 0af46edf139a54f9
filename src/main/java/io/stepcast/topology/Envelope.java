package io.stepcast.topology;

import io.stepcast.features.Event;
import io.stepcast.features.Rejection;

/**
 * What travels between the processors of a forecasting topology: a validated event with the record
 * it came from, or a dead letter, or a forecast ready to send. Processors reuse one instance each:
 * Kafka Streams forwards synchronously, so nothing downstream keeps it.
 */
final class Envelope {
  Event event;
  // What the envelope carries of the original record (see DeadLetters.carry): the whole key and
  // value, or bounded prefixes with the original sizes and what was cut.
  byte[] rawKey;
  byte[] rawValue;
  String truncated;
  int keySize = -1;
  int valueSize = -1;
  int headersSize;
  String sourceTopic;
  int sourcePartition = -1;
  long sourceOffset = -1;
  Rejection reason;
  String message;
  String stage;
  byte[] forecast;

  boolean isDeadLetter() {
    return reason != null;
  }

  Envelope clear() {
    event = null;
    rawKey = null;
    rawValue = null;
    truncated = null;
    keySize = -1;
    valueSize = -1;
    headersSize = 0;
    sourceTopic = null;
    sourcePartition = -1;
    sourceOffset = -1;
    reason = null;
    message = null;
    stage = null;
    forecast = null;
    return this;
  }
}
